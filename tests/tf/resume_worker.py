"""One training process of the resume tests: trains, records every batch the model trained on.

    python resume_worker.py IMAGES RECORD.npz STATE.json [STOP_AFTER]

Trains EPOCHS epochs through InputCheckpoint.fit, resuming from STATE.json when it exists. After
each trained batch it rewrites RECORD.npz with the labels, indices and pixel sums trained so far.
With STOP_AFTER (a number of batches; 0 means before the first), it then writes RECORD.npz.stopped
and waits to be killed from outside.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import tensorflow as tf

from fast_balance.files import list_image_files
from fast_balance.tf import InputCheckpoint, balanced_dataset

EPOCHS = 2
BATCH = 12
trained: dict[str, list] = {"labels": [], "indices": [], "sums": []}


class RecordingModel(tf.keras.Sequential):
    """Keeps what every batch it trains on holds (run eagerly)."""

    def train_step(self, data):
        images, labels, indices = data
        trained["labels"].append(labels.numpy())
        trained["indices"].append(indices.numpy())
        trained["sums"].append(tf.reduce_sum(images, axis=[1, 2, 3]).numpy())
        return super().train_step((images, labels))


def save(path):
    arrays = {key: np.concatenate(values) if values else np.empty(0) for key, values in trained.items()}
    np.savez(path, **arrays)


class Record(tf.keras.callbacks.Callback):
    """Saves the record after every batch; at the stop point, says so and waits for SIGKILL."""

    def __init__(self, path, stop_after):
        super().__init__()
        self.path, self.stop_after, self.batches = path, stop_after, 0

    def stop_here(self):
        save(self.path)
        with open(self.path + ".stopped", "w") as marker:
            marker.write("stopped")
        while True:
            time.sleep(1)

    def on_train_begin(self, logs=None):
        if self.stop_after == 0:
            self.stop_here()

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        save(self.path)
        if self.batches == self.stop_after:
            self.stop_here()


def main():
    images, record, state_path = sys.argv[1:4]
    stop_after = int(sys.argv[4]) if len(sys.argv) > 4 else None
    paths, labels, _ = list_image_files(images)
    ds = balanced_dataset(paths, labels, image_size=(24, 24), batch_size=BATCH, augment="all", seed=5,
                          with_indices=True, progress=False)
    tf.keras.utils.set_random_seed(0)
    model = RecordingModel([tf.keras.Input((24, 24, 3)), tf.keras.layers.Flatten(), tf.keras.layers.Dense(3)])
    model.compile("sgd", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), run_eagerly=True)
    checkpoint = InputCheckpoint(ds, path=state_path)
    for _ in ds.take(1):  # a preview, as Keras tutorials do: it must not move training off its epochs
        pass
    checkpoint.fit(model, epochs=EPOCHS, callbacks=[Record(record, stop_after)], verbose=0)
    save(record)


if __name__ == "__main__":
    main()
