"""One worker of the MultiWorkerMirroredStrategy test (TF_CONFIG set by the test).

    python multiworker_worker.py IMAGES OUT.npz
Trains a tiny Keras model on one epoch of its shard and saves the labels and indices it saw.
"""

from __future__ import annotations

import sys

import numpy as np
import tensorflow as tf

from fast_balance.files import list_image_files
from fast_balance.tf import balanced_dataset

GLOBAL_BATCH = 12


def main():
    images, out = sys.argv[1:3]
    paths, labels, _ = list_image_files(images)
    strategy = tf.distribute.MultiWorkerMirroredStrategy()

    def dataset_fn(context):
        return balanced_dataset(paths, labels, image_size=(16, 16), seed=7, input_context=context,
                                batch_size=context.get_per_replica_batch_size(GLOBAL_BATCH), with_indices=True,
                                progress=False)

    batches = strategy.distribute_datasets_from_function(dataset_fn)
    with strategy.scope():
        model = tf.keras.Sequential([tf.keras.Input((16, 16, 3)), tf.keras.layers.Flatten(), tf.keras.layers.Dense(3)])
        optimizer = tf.keras.optimizers.SGD(0.01)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

    @tf.function
    def step(images, labels):
        with tf.GradientTape() as tape:
            loss = tf.nn.compute_average_loss(loss_fn(labels, model(images)), global_batch_size=GLOBAL_BATCH)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    seen_labels, seen_indices = [], []
    for images_batch, labels_batch, indices_batch in batches:
        strategy.run(step, args=(images_batch, labels_batch))
        seen_labels.extend(t.numpy() for t in strategy.experimental_local_results(labels_batch))
        seen_indices.extend(t.numpy() for t in strategy.experimental_local_results(indices_batch))
    np.savez(out, labels=np.stack(seen_labels), indices=np.stack(seen_indices))


if __name__ == "__main__":
    main()
