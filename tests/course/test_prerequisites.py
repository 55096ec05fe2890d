"""The page "What you need from PyTorch" shows code that runs and says what it prints."""

from __future__ import annotations

import re

import torch

from tests.paths import ROOT

PAGE = ROOT / "book" / "prerequisites.md"


def _code_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_every_code_block_runs_in_order_and_the_stated_gradient_is_right():
    blocks = _code_blocks()
    assert len(blocks) >= 5
    namespace: dict[str, object] = {
        "inputs": torch.randn(16, 2, generator=torch.Generator().manual_seed(0)),
        "labels": torch.arange(16) % 2,
    }
    for block in blocks:
        if "w.grad = None" in block:  # stop before the reset to check the stated gradient
            head, tail = block.split("w.grad = None", 1)
            exec(head, namespace)  # noqa: S102 - the page's own example code
            assert namespace["w"].grad.item() == 8.0  # the comment says tensor(8.)
            exec("w.grad = None" + tail, namespace)  # noqa: S102
        else:
            exec(block, namespace)  # noqa: S102
    assert tuple(namespace["x"].shape) == (7,) and namespace["x"].dtype == torch.float32
    assert tuple(namespace["scores"].shape) == (10, 2)
    assert len(namespace["outputs"]) == 1


def test_two_class_chance_loss_is_log_2():
    scores = torch.zeros(4, 2)
    loss = torch.nn.functional.cross_entropy(scores, torch.tensor([0, 1, 0, 1]))
    assert round(loss.item(), 3) == 0.693
