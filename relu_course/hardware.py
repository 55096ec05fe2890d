"""What ReLU's zeros and an activation's backward cost in hardware terms: skipped work and saved memory (Chapter 7).

**Skipping zeros.** A feed-forward block computes y = W2 relu(W1 x + b1) + b2. Write h = relu(W1 x + b1)
for its hidden layer, of ``hidden`` units. Unit j contributes h_j * W2[:, j] to y, so a
unit with h_j = 0 contributes nothing, and the product needs only the *active* units
A = {j : h_j != 0}:

    y = W2[:, A] h[A] + b2.

Column j of W2 holds the weights of unit j. The functions here take the down projection
as ``w2_t`` = W2^T, of shape (hidden, d_out), one row per hidden unit: stored contiguous
(``linear.weight.T.contiguous()``), each unit's weights are one block of memory, and
skipping a unit skips that block. (In the row-major W2 of ``nn.Linear``, a column is
scattered over all d_out rows.)

* ``active_units``: the indices A, for one input or the union over a batch;
* ``union_active_fraction``: ``len(A) / hidden``, the fraction of W2's columns a batch needs;
* ``sparse_down_projection``: y computed from the active units only (gather, then a
  smaller matrix product);
* ``dense_down_projection``: the same y from every unit, the reference.

For a batch h of shape (n, hidden), A is the union of the rows' active units: a unit is
skipped only if it is 0 for every row, because every row is multiplied by the same
gathered matrix.

Zeros are tested with ``h != 0``: -0.0 counts as 0 (it equals 0), and NaN counts as
active, so a NaN reaches the output as in the dense product. The sparse product differs
from the dense one only in the order of the additions (equal to rounding), and in one
case more: the dense product multiplies every skipped weight by 0, which gives NaN where
that weight is infinite or NaN; the sparse product never reads it.

**Memory for the backward pass.** To compute gradients, autograd keeps some tensors of the forward pass until the
backward pass has used them: a layer's input, its output, or an intermediate result,
as the derivative formula of each operation requires. ``saved_tensor_bytes`` records
them with ``torch.autograd.graph.saved_tensors_hooks``: the *pack* hook runs once for
every tensor an operation saves, and receives that tensor.

Counting bytes needs two rules, because tensors share memory:

* **Memory, not tensors.** A saved tensor may be a view of another tensor (``W.t()``
  for a Linear layer's weight), or the same tensor may be saved by two operations (a
  ReLU's output is also the next Linear layer's input, and both save it). Both point
  into one block of memory, a *storage*. The bytes counted are those of each distinct
  storage, once, whole: a view keeps all of its storage alive.
* **Roles.** Each storage gets one role, by what it belongs to: ``"input"`` (the memory
  of one of the tensors passed in), ``"parameter"`` (a parameter or buffer of the
  function, when it is an ``nn.Module``), ``"output"`` (the memory of the result), or
  ``"intermediate"`` (memory made during the call that nobody but autograd holds).
  Inputs and parameters exist anyway; whether saving them costs anything depends on
  whether anything else would keep them. ``SavedBytes.created_bytes`` counts only the
  memory the call itself made (outputs and intermediates).

``tensor_memory`` measures the other side: every tensor the call allocates, how many
bytes are alive at the peak, and how many are still alive when it returns. Both
functions count bytes of tensors, exactly and the same on every machine; neither reads
the memory of the process, and neither sees the scratch space that a kernel may
allocate inside itself.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = [
    "ROLES",
    "SavedBytes",
    "SavedTensor",
    "TensorMemory",
    "active_units",
    "dense_down_projection",
    "saved_tensor_bytes",
    "sparse_down_projection",
    "tensor_memory",
    "union_active_fraction",
]


def active_units(h: torch.Tensor) -> torch.Tensor:
    """The indices of the units that are on: A = {j : h[j] != 0}, in increasing order.

    Used in: Chapter 7 (§7.2).

    For a batch h of shape (n, hidden), the union over its rows:
    A = {j : h[i, j] != 0 for at least one row i}.

    Parameters
    ----------
    h : Tensor of a floating-point dtype, shape (hidden,) or (n, hidden)
        The hidden layer's outputs, e.g. ``torch.relu(z)``. -0.0 counts as 0; NaN
        counts as on.

    Returns
    -------
    Tensor of int64, shape (k,)
        On ``h``'s device; 0 <= k <= hidden.
    """
    _check_hidden(h)
    on = h != 0
    if on.ndim == 2:
        on = on.any(dim=0)
    return torch.nonzero(on).squeeze(1)


def union_active_fraction(h: torch.Tensor) -> float:
    """The fraction of units that are on for at least one row: ``len(A) / hidden`` (see ``active_units``).

    Used in: Chapter 7 (§7.2).

    It is the fraction of W2's columns that ``sparse_down_projection`` reads for this
    batch. For one input, shape (hidden,), it is that input's fraction of non-zero
    units. If each unit is on with probability p, independently across n independent
    rows, its expected value is 1 - (1 - p)^n.

    Parameters
    ----------
    h : Tensor of a floating-point dtype, shape (hidden,) or (n, hidden)

    Returns
    -------
    float
        In [0, 1].
    """
    _check_hidden(h)
    return active_units(h).numel() / h.shape[-1]


def sparse_down_projection(h: torch.Tensor, w2_t: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """The down projection from the active units only: y = h[..., A] W2^T[A] + b = W2[:, A] h[A] + b.

    Used in: Chapter 7 (§7.2).

    Three steps: find A (``active_units``; for a batch, the union over its rows),
    gather the rows A of ``w2_t`` (``index_select``: a new (k, d_out) matrix), and
    multiply. Only those k rows of ``w2_t`` are read. Equal to
    ``dense_down_projection(h, w2_t, bias)`` up to rounding (see the module's
    docstring for the one exception: infinite or NaN weights of inactive units).

    Parameters
    ----------
    h : Tensor, shape (hidden,) or (n, hidden)
        The hidden layer's outputs, of a floating-point dtype.
    w2_t : Tensor, shape (hidden, d_out)
        W2^T: row j holds the weights from unit j to the outputs. Same dtype and device
        as ``h``. Make it contiguous for speed (``linear.weight.T.contiguous()``).
    bias : Tensor, shape (d_out,), optional
        b2, added to every output row.

    Returns
    -------
    Tensor, shape (d_out,) or (n, d_out)
        Of ``h``'s dtype and device.
    """
    _check_projection(h, w2_t, bias)
    active = active_units(h)
    y = h.index_select(-1, active) @ w2_t.index_select(0, active)
    return y if bias is None else y + bias


def dense_down_projection(h: torch.Tensor, w2_t: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """The down projection from every unit: y = h W2^T + b (what ``nn.Linear`` computes).

    Used in: Chapter 7 (§7.2).

    Every row of ``w2_t`` is read and multiplied, zeros of ``h`` included. The
    reference for ``sparse_down_projection``, with the same arguments.

    Parameters
    ----------
    h : Tensor, shape (hidden,) or (n, hidden)
    w2_t : Tensor, shape (hidden, d_out)
    bias : Tensor, shape (d_out,), optional

    Returns
    -------
    Tensor, shape (d_out,) or (n, d_out)
    """
    _check_projection(h, w2_t, bias)
    return F.linear(h, w2_t.t(), bias)


def _check_hidden(h: object) -> None:
    """h must be a floating-point tensor of shape (hidden,) or (n, hidden) with hidden >= 1."""
    if not isinstance(h, torch.Tensor):
        raise TypeError(f"h must be a torch.Tensor, got {type(h).__name__}.")
    if not h.is_floating_point():
        raise TypeError(f"h must have a floating-point dtype (the outputs of an activation), got {h.dtype}.")
    if h.ndim not in (1, 2) or h.shape[-1] == 0:
        raise ValueError(
            f"h must have shape (hidden,) for one input or (n, hidden) for a batch, with hidden >= 1; "
            f"got {tuple(h.shape)}."
        )


def _check_projection(h: object, w2_t: object, bias: object) -> None:
    """The arguments of the down projections: shapes that fit, one dtype, one device."""
    _check_hidden(h)
    tensors = {"w2_t": w2_t} if bias is None else {"w2_t": w2_t, "bias": bias}
    for name, tensor in tensors.items():
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}.")
        if tensor.dtype != h.dtype or tensor.device != h.device:
            raise TypeError(
                f"{name} must have h's dtype and device ({h.dtype} on {h.device}), "
                f"got {tensor.dtype} on {tensor.device}."
            )
    hidden = h.shape[-1]
    if w2_t.ndim != 2 or w2_t.shape[0] != hidden:
        raise ValueError(
            f"w2_t must have shape (hidden, d_out) = ({hidden}, d_out), one row per unit of h (W2 transposed); "
            f"got {tuple(w2_t.shape)}."
        )
    if bias is not None and tuple(bias.shape) != (w2_t.shape[1],):
        raise ValueError(f"bias must have shape (d_out,) = ({w2_t.shape[1]},), got {tuple(bias.shape)}.")


# --------------------------------------------------------------------------- memory for the backward pass


#: The roles of a saved storage, in the order ``saved_tensor_bytes`` checks them.
ROLES = ("input", "parameter", "output", "intermediate")


@dataclass(frozen=True)
class SavedTensor:
    """One block of memory (a storage) that autograd keeps for the backward pass.

    Attributes
    ----------
    role : str
        ``"input"``, ``"parameter"``, ``"output"`` or ``"intermediate"`` (see ``ROLES``).
    shape : tuple of int
        The shape of the first saved tensor that points into this storage.
    dtype : torch.dtype
        Its element type: ``torch.float32`` (4 bytes), ``torch.bool`` (1 byte), ...
    nbytes : int
        The storage's size in bytes, counted once however many tensors point into it.
    times_saved : int
        How many saved tensors point into it (>= 1).
    """

    role: str
    shape: tuple[int, ...]
    dtype: torch.dtype
    nbytes: int
    times_saved: int


@dataclass(frozen=True)
class SavedBytes:
    """What autograd saved during one call, one entry per distinct storage.

    Attributes
    ----------
    tensors : tuple of SavedTensor
        In the order autograd first saved each storage.
    saves : int
        How many times the pack hook ran: saved tensors, counting a storage saved
        twice twice. ``len(tensors)`` counts each storage once.
    """

    tensors: tuple[SavedTensor, ...]
    saves: int

    @property
    def total_bytes(self) -> int:
        """Bytes of every distinct saved storage, inputs and parameters included."""
        return sum(tensor.nbytes for tensor in self.tensors)

    @property
    def created_bytes(self) -> int:
        """Bytes of saved storages that the call itself made: roles output and intermediate."""
        return self.bytes_of("output", "intermediate")

    @property
    def input_saved(self) -> bool:
        """Whether autograd kept (the memory of) one of the inputs."""
        return any(tensor.role == "input" for tensor in self.tensors)

    def bytes_of(self, *roles: str) -> int:
        """Bytes of the saved storages with one of ``roles``, e.g. ``bytes_of("input")``."""
        for role in roles:
            if role not in ROLES:
                raise ValueError(f"role must be one of {', '.join(ROLES)}; got {role!r}.")
        return sum(tensor.nbytes for tensor in self.tensors if tensor.role in roles)

    def describe(self) -> str:
        """One phrase per storage, e.g. ``"input (float32)"`` or ``"intermediate (bool)"``."""
        if not self.tensors:
            return "nothing"
        return ", ".join(f"{t.role} ({str(t.dtype).removeprefix('torch.')})" for t in self.tensors)


def saved_tensor_bytes(function: Callable[..., object], *inputs: torch.Tensor) -> SavedBytes:
    """Run ``function(*inputs)`` once and record what autograd saves for the backward pass.

    Used in: Chapter 7 (§7.3).

    Every tensor autograd saves passes through a pack hook
    (``torch.autograd.graph.saved_tensors_hooks``), which records it. The call runs with
    gradients enabled; autograd saves only what some gradient needs, so give at least
    one input ``requires_grad=True`` or use a module with parameters, or nothing is
    saved. Storages are told apart by their address (``untyped_storage().data_ptr()``);
    the recorder holds every saved tensor until it has counted, so no address is reused
    in between.

    Each storage is counted once, with its whole size ``untyped_storage().nbytes()``
    (for a float32 tensor of n numbers that it does not share, 4 n bytes), and given the
    first role that fits: ``"input"`` if it is the memory of one of ``inputs``,
    ``"parameter"`` if it is that of a parameter or buffer of ``function`` (when it is
    an ``nn.Module``), ``"output"`` if it is that of a tensor in the result (a tensor, or
    a tuple, list or dict of them), ``"intermediate"`` otherwise. Pass a module itself,
    not a function that calls it: the weights of a module hidden in a function count as
    intermediates.

    Tensors saved inside ``torch.utils.checkpoint.checkpoint`` (``use_reentrant=False``)
    pass through the checkpoint's own hooks, not this one: what is seen is what the
    checkpoint keeps, its inputs.

    Parameters
    ----------
    function : callable
        A function or module of tensors, e.g. ``F.relu`` or ``networks.mlp(...)``.
    *inputs : Tensor
        Its arguments.

    Returns
    -------
    SavedBytes
    """
    _check_call(function, inputs)
    packed: list[torch.Tensor] = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        packed.append(tensor)
        return tensor

    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, _unpack):
        result = function(*inputs)
    roles = [
        ("input", _storage_addresses(inputs)),
        ("parameter", _storage_addresses(_module_tensors(function))),
        ("output", _storage_addresses(_tensors_in(result))),
    ]
    first_seen: dict[int, torch.Tensor] = {}
    times_saved: dict[int, int] = {}
    for tensor in packed:
        address = _address(tensor)
        first_seen.setdefault(address, tensor)
        times_saved[address] = times_saved.get(address, 0) + 1
    tensors = tuple(
        SavedTensor(
            role=next((role for role, addresses in roles if address in addresses), "intermediate"),
            shape=tuple(tensor.shape),
            dtype=tensor.dtype,
            nbytes=tensor.untyped_storage().nbytes(),
            times_saved=times_saved[address],
        )
        for address, tensor in first_seen.items()
    )
    return SavedBytes(tensors=tensors, saves=len(packed))


@dataclass(frozen=True)
class TensorMemory:
    """Bytes of the tensors one call allocated (see ``tensor_memory``).

    Attributes
    ----------
    allocated_bytes : int
        Every new storage the call's operations made, added up.
    peak_bytes : int
        The most of those alive at one moment.
    kept_bytes : int
        Those still alive when the call returned: its result, and what autograd saved.
    """

    allocated_bytes: int
    peak_bytes: int
    kept_bytes: int


def tensor_memory(function: Callable[..., object], *inputs: torch.Tensor) -> TensorMemory:
    """Run ``function(*inputs)`` once and count the bytes of the tensors it allocates.

    Used in: Chapter 7 (§7.3).

    A ``TorchDispatchMode`` sees the result of every ATen operation the call runs. A
    result whose storage is not that of one of the operation's arguments (not a view,
    not an in-place result) is new memory: its ``untyped_storage().nbytes()`` is added
    to the live total, and subtracted again when Python frees that storage
    (``weakref.finalize``). ``peak_bytes`` is the largest live total, and
    ``kept_bytes`` the live total when the call returns, with its result still held.
    Tensors that existed before (inputs, parameters) count nothing. Scratch space that
    a kernel allocates and frees inside itself is not an ATen result and is not seen,
    so the counts are the same on every machine.

    The call runs with gradients enabled, as in training. Measure the backward pass by
    calling it inside ``function``.

    Parameters
    ----------
    function : callable
        A function or module of tensors.
    *inputs : Tensor
        Its arguments.

    Returns
    -------
    TensorMemory
    """
    _check_call(function, inputs)
    counter = _LiveBytes()
    with torch.enable_grad(), counter:
        result = function(*inputs)
    kept = counter.live
    del result
    return TensorMemory(allocated_bytes=counter.allocated, peak_bytes=counter.peak, kept_bytes=kept)


class _LiveBytes(TorchDispatchMode):
    """Adds up the bytes of new storages as operations make them; subtracts them when freed."""

    def __init__(self) -> None:
        super().__init__()
        self.live = self.peak = self.allocated = 0
        self._tracked: set[int] = set()

    def __torch_dispatch__(
        self,
        func: Callable[..., object],
        types: Sequence[type],
        args: Sequence[object] = (),
        kwargs: Mapping[str, object] | None = None,
    ) -> object:
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        arguments = _storage_addresses(_tensors_in((args, kwargs)))
        for tensor in _tensors_in(result):
            address = _address(tensor)
            if address not in arguments and address not in self._tracked:
                self._track(tensor.untyped_storage(), address)
        return result

    def _track(self, storage: torch.UntypedStorage, address: int) -> None:
        size = storage.nbytes()
        self._tracked.add(address)
        self.allocated += size
        self.live += size
        self.peak = max(self.peak, self.live)
        finalizer = weakref.finalize(storage, self._free, address, size)
        finalizer.atexit = False  # nothing to count once Python exits

    def _free(self, address: int, size: int) -> None:
        self._tracked.discard(address)
        self.live -= size


# --------------------------------------------------------------------------- helpers


def _unpack(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


def _address(tensor: torch.Tensor) -> int:
    return tensor.untyped_storage().data_ptr()


def _storage_addresses(tensors: Iterator[torch.Tensor] | tuple[torch.Tensor, ...]) -> set[int]:
    return {_address(tensor) for tensor in tensors}


def _tensors_in(value: object) -> Iterator[torch.Tensor]:
    """Every tensor in ``value``: a tensor, or tuples, lists and dicts of them, nested."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item)


def _module_tensors(function: object) -> Iterator[torch.Tensor]:
    if isinstance(function, nn.Module):
        yield from function.parameters()
        yield from function.buffers()


def _check_call(function: object, inputs: tuple[object, ...]) -> None:
    if not callable(function):
        raise TypeError(f"function must be callable, got {type(function).__name__}.")
    for number, value in enumerate(inputs):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"input {number} must be a torch.Tensor, got {type(value).__name__}.")
