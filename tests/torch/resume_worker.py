"""Trains over two epochs of a StatefulDataLoader (2 workers), saving its state after every batch.

    python resume_worker.py STATE_FILE [STOP_AFTER]

Resumes from STATE_FILE when it exists. After STOP_AFTER batches in all it writes
STATE_FILE.stopped and waits to be killed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import torch
from torch_helpers import BATCH_SIZE, labels
from torchdata.stateful_dataloader import StatefulDataLoader

from fast_balance.torch import BalancedBatchSampler

EPOCHS = 2


def main() -> None:
    path = Path(sys.argv[1])
    stop_after = int(sys.argv[2]) if len(sys.argv) > 2 else None
    sampler = BalancedBatchSampler(labels(), batch_size=BATCH_SIZE, seed=11)
    loader = StatefulDataLoader(torch.arange(len(labels())), batch_sampler=sampler, num_workers=2)
    saved = {"epoch": 0, "seen": [], "loader": None}
    if path.exists():
        saved = torch.load(path, weights_only=False)
        loader.load_state_dict(saved["loader"])
    for epoch in range(saved["epoch"], EPOCHS):
        sampler.set_epoch(epoch)
        for batch in loader:
            saved = {"epoch": epoch, "seen": [*saved["seen"], batch.tolist()], "loader": loader.state_dict()}
            torch.save(saved, f"{path}.tmp")
            os.replace(f"{path}.tmp", path)  # the batch trained and the state after it, at once
            if stop_after is not None and len(saved["seen"]) == stop_after:
                Path(f"{path}.stopped").touch()
                time.sleep(600)


if __name__ == "__main__":
    main()
