"""One training process for the resume test: trains, records what the model consumed, may die.

    python resume_worker.py IMAGES OUT.npz STATE.json {full|kill AFTER_BATCHES|resume}
"""

from __future__ import annotations

import os
import sys

import numpy as np
import tensorflow as tf

from fast_balance import BalancedIndexSampler
from fast_balance.files import list_image_files
from fast_balance.tf import InputCheckpoint, balanced_dataset

EPOCHS = 2
BATCH = 12
consumed_labels, consumed_sums = [], []


class RecordingModel(tf.keras.Sequential):
    """Keeps the labels and pixel sums of every batch it trains on (run eagerly)."""

    def train_step(self, data):
        images, labels = data
        consumed_labels.append(labels.numpy())
        consumed_sums.append(tf.reduce_sum(images, axis=[1, 2, 3]).numpy())
        return super().train_step(data)


def save(path):
    np.savez(path, labels=np.concatenate(consumed_labels), sums=np.concatenate(consumed_sums))


class DieAfter(tf.keras.callbacks.Callback):
    """A preemption: the process ends abruptly after `batches` trained batches."""

    def __init__(self, batches, out):
        super().__init__()
        self.left, self.out = batches, out

    def on_train_batch_end(self, batch, logs=None):
        self.left -= 1
        if self.left == 0:
            save(self.out)
            os._exit(17)


def main():
    images, out, state_path, mode = sys.argv[1:5]
    paths, labels, _ = list_image_files(images)
    sampler = BalancedIndexSampler(labels, batch_size=BATCH, seed=5)
    initial_epoch = 0
    if mode == "resume":
        state = InputCheckpoint.load(state_path)
        sampler.load_state_dict(state)
        initial_epoch = state["epoch"]
    ds = balanced_dataset(paths, labels, image_size=(24, 24), batch_size=BATCH, sampler=sampler, augment="all",
                          seed=5, progress=False)
    tf.keras.utils.set_random_seed(0)
    model = RecordingModel([tf.keras.Input((24, 24, 3)), tf.keras.layers.Flatten(), tf.keras.layers.Dense(3)])
    model.compile("sgd", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), run_eagerly=True)
    tracker = InputCheckpoint(ds if ds.remainder is None else ds.remainder, path=state_path)
    callbacks = [tracker] + ([DieAfter(int(sys.argv[5]), out)] if mode == "kill" else [])
    if ds.remainder is not None:  # the rest of the interrupted epoch, then whole epochs
        model.fit(ds.remainder, epochs=initial_epoch + 1, initial_epoch=initial_epoch, callbacks=callbacks, verbose=0)
        initial_epoch += 1
    model.fit(ds, epochs=EPOCHS, initial_epoch=initial_epoch, callbacks=callbacks, verbose=0)
    save(out)


if __name__ == "__main__":
    main()
