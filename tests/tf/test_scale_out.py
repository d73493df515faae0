"""Exact resume, tf.distribute shards and the tf.data service."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from workers import run_worker_script

from fast_balance import BalancedIndexSampler
from fast_balance.tf import InputCheckpoint, balanced_dataset

HERE = Path(__file__).resolve().parent


def run_worker(*args, stop_after=None, timeout=300):
    """Runs resume_worker.py; with ``stop_after``, SIGKILLs it from outside once it reports that
    point, and returns only after it is dead."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    command = [sys.executable, str(HERE / "resume_worker.py"), *map(str, args)]
    run_worker_script(command, env, stop_after, Path(f"{args[1]}.stopped"), timeout)


@pytest.fixture(scope="module")
def uninterrupted(image_folder, tmp_path_factory):
    root, _, _ = image_folder
    folder = tmp_path_factory.mktemp("full")
    run_worker(root, folder / "full.npz", folder / "state.json")
    return np.load(folder / "full.npz")


# 6 batches per epoch: before the first batch, inside the first epoch, exactly at the boundary
# between the epochs (state: epoch 1, position 0), inside the second.
@pytest.mark.parametrize("stop_after", [0, 4, 6, 9])
def test_resume_after_sigkill_trains_exactly_what_an_uninterrupted_run_trains(
    image_folder, tmp_path, uninterrupted, stop_after
):
    root, _, _ = image_folder
    state = tmp_path / "state.json"
    run_worker(root, tmp_path / "killed.npz", state, stop_after=stop_after)
    if stop_after == 0:
        assert not state.exists()
    else:
        saved = json.loads(state.read_text())
        assert (saved["epoch"], saved["position"]) == (stop_after // 6, stop_after % 6 * 12)
    run_worker(root, tmp_path / "resumed.npz", state)
    killed, resumed = (np.load(tmp_path / f"{name}.npz") for name in ("killed", "resumed"))
    assert killed["labels"].size == stop_after * 12
    for key in ("labels", "indices", "sums"):
        joined = np.concatenate([killed[key], resumed[key]])
        assert joined.shape == uninterrupted[key].shape
        assert np.allclose(joined, uninterrupted[key], rtol=0, atol=1e-3), key  # same images, same augmentation
    assert json.loads(state.read_text())["epoch"] == 2


def test_input_checkpoint_state_is_saved_by_tf_train_checkpoint(image_folder, tmp_path):
    _, paths, labels = image_folder
    ds = balanced_dataset(paths, labels, image_size=(16, 16), batch_size=12, seed=1, progress=False)
    tracker = InputCheckpoint(ds)
    tracker.on_train_begin()
    tracker.on_epoch_begin(0)
    tracker.on_train_batch_end(2)  # three batches trained
    checkpoint = tf.train.Checkpoint(input=tracker.state)
    saved = checkpoint.save(str(tmp_path / "ckpt"))
    restored = InputCheckpoint(ds)
    tf.train.Checkpoint(input=restored.state).restore(saved).assert_consumed()
    expected = {"fingerprint": ds.sampler.fingerprint, "epoch": 0, "position": 36}
    assert restored.state_dict() == expected == tracker.state_dict()
    with pytest.raises(TypeError, match="balanced_dataset"):
        InputCheckpoint(tf.data.Dataset.range(3))


def test_input_checkpoint_refuses_a_state_of_another_sampler(image_folder, tmp_path):
    _, paths, labels = image_folder
    ds = balanced_dataset(paths, labels, image_size=(16, 16), batch_size=12, seed=1, progress=False)
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"fingerprint": "0" * 16, "epoch": 1, "position": 0}))
    with pytest.raises(ValueError, match="another sampler"):
        InputCheckpoint(ds, path=path)
    for bad, message in ((1.5, "integer"), (-1, ">= 0")):
        path.write_text(json.dumps({"fingerprint": ds.sampler.fingerprint, "epoch": bad, "position": 0}))
        with pytest.raises((TypeError, ValueError), match=message):
            InputCheckpoint(ds, path=path)
    path.write_text(json.dumps({"fingerprint": ds.sampler.fingerprint, "epoch": 0, "position": 5}))
    with pytest.raises(ValueError, match="not a whole number of batches"):
        InputCheckpoint(ds, path=path)


def test_pinned_epochs_ignore_previews_and_plain_fit_counts_passes(image_folder):
    _, paths, labels = image_folder
    ds = balanced_dataset(paths, labels, image_size=(16, 16), batch_size=12, seed=1, with_indices=True,
                          progress=False)
    reference = BalancedIndexSampler(labels, batch_size=12, seed=1)
    seen = []

    class Recording(tf.keras.Sequential):
        def train_step(self, data):
            x, y, indices = data
            seen.append(indices.numpy())
            return super().train_step((x, y))

    class Preview(tf.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            for _ in ds.take(1):
                pass

    model = Recording([tf.keras.Input((16, 16, 3)), tf.keras.layers.Flatten(), tf.keras.layers.Dense(3)])
    model.compile("sgd", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), run_eagerly=True)
    for _ in ds.take(1):
        pass
    InputCheckpoint(ds).fit(model, epochs=3, callbacks=[Preview()], verbose=0)
    expected = np.concatenate([reference.epoch(e).indices for e in range(3)])
    assert np.array_equal(np.concatenate(seen), expected)
    # Without InputCheckpoint.fit every pass is the next epoch, previews included.
    seen.clear()
    ds.next_epoch.assign(0)
    tracker = InputCheckpoint(ds)
    model.fit(ds, epochs=2, callbacks=[tracker], verbose=0)
    assert np.array_equal(np.concatenate(seen), np.concatenate([reference.epoch(e).indices for e in range(2)]))
    assert tracker.state_dict()["epoch"] == 2 and tracker.state_dict()["position"] == 0


def test_materialized_epochs_hold_no_python_and_match_the_sampler(image_folder):
    _, paths, labels = image_folder
    ds = balanced_dataset(paths, labels, image_size=(16, 16), batch_size=12, seed=2, epochs=2, with_indices=True,
                          progress=False)
    graph = ds._as_serialized_graph().numpy()
    assert b"PyFunc" not in graph and b"NumpyFunction" not in graph and b"EagerPyFunc" not in graph
    got = np.concatenate([i.numpy() for _, _, i in ds])
    reference = BalancedIndexSampler(labels, batch_size=12, seed=2)
    assert np.array_equal(got, np.concatenate([reference.epoch(0).indices, reference.epoch(1).indices]))
    assert len(ds) == 12 and ds.next_epoch is None and ds.epochs_per_pass == 2


def test_tf_data_service_delivers_every_scheduled_sample_once_in_balanced_batches(image_folder):
    _, paths, labels = image_folder
    dispatcher = tf.data.experimental.service.DispatchServer()
    address = dispatcher.target.split("://")[1]
    workers = [
        tf.data.experimental.service.WorkerServer(tf.data.experimental.service.WorkerConfig(dispatcher_address=address))
        for _ in range(2)
    ]
    ds = balanced_dataset(paths, labels, image_size=(16, 16), batch_size=12, seed=4, epochs=2, with_indices=True,
                          progress=False)
    served = ds.apply(tf.data.experimental.service.distribute("distributed_epoch", dispatcher.target))
    batches = [(y.numpy(), i.numpy()) for _, y, i in served]
    reference = BalancedIndexSampler(labels, batch_size=12, seed=4)
    expected = np.concatenate([reference.epoch(0).indices, reference.epoch(1).indices]).reshape(-1, 12)
    assert len(batches) == expected.shape[0]
    # Every scheduled batch arrives exactly once, whole (workers interleave batches, not samples).
    assert sorted(map(tuple, (i for _, i in batches))) == sorted(map(tuple, expected))
    assert all(np.bincount(y, minlength=3).tolist() == [4, 4, 4] for y, _ in batches)
    del workers, dispatcher


def test_input_context_selects_the_shard(image_folder):
    _, paths, labels = image_folder
    shards = []
    for pipeline in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline, num_replicas_in_sync=2)
        ds = balanced_dataset(paths, labels, image_size=(16, 16), batch_size=6, seed=3, input_context=context,
                              with_indices=True, progress=False)
        assert (ds.sampler.num_shards, ds.sampler.shard_index) == (2, pipeline)
        shards.append(np.concatenate([i.numpy() for _, _, i in ds]))
    whole = BalancedIndexSampler(labels, batch_size=6, seed=3).epoch(0).indices.reshape(-1, 6)
    assert np.array_equal(np.stack([s.reshape(-1, 6) for s in shards], 1).reshape(-1, 6), whole)
    context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1)
    with pytest.raises(TypeError, match="not both"):
        balanced_dataset(paths, labels, batch_size=6, input_context=context, num_shards=2, progress=False)


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multi_worker_mirrored_strategy_gives_each_worker_a_balanced_disjoint_shard(image_folder, tmp_path):
    root, _, labels = image_folder
    cluster = {"worker": [f"localhost:{port}" for port in free_ports(2)]}
    processes = []
    for index in range(2):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        env = {**os.environ, "TF_CONFIG": config, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
        processes.append(subprocess.Popen(
            [sys.executable, str(HERE / "multiworker_worker.py"), root, str(tmp_path / f"worker{index}.npz")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-3000:]
    seen = [np.load(tmp_path / f"worker{index}.npz") for index in range(2)]
    # The global epoch in per-replica batches of 6; worker w trained on batches w, w + 2, ...
    whole = BalancedIndexSampler(labels, batch_size=6, seed=7).epoch(0)
    for index, worker in enumerate(seen):
        assert np.array_equal(worker["indices"], whole.indices.reshape(-1, 6)[index::2])
        assert all(np.bincount(row, minlength=3).tolist() == [2, 2, 2] for row in worker["labels"])
    union = np.sort(np.concatenate([w["indices"].ravel() for w in seen]))
    assert np.array_equal(union, np.sort(whole.indices))


@pytest.mark.parametrize("content", [b"", b'{"fingerprint": "0', b"\xff\xfe"])
def test_a_state_file_that_is_not_json_is_named(image_folder, tmp_path, content):
    # An empty or cut state file (a full disk, a copy stopped half-way) raised a bare
    # "Expecting value: line 1 column 1 (char 0)" naming no file.
    _, paths, labels = image_folder
    ds = balanced_dataset(paths, labels, image_size=(16, 16), batch_size=12, seed=1, progress=False)
    path = tmp_path / "state.json"
    path.write_bytes(content)
    for load in (lambda: InputCheckpoint(ds, path=path), lambda: InputCheckpoint.load(path)):
        with pytest.raises(ValueError, match=f"{path} does not hold an input state \\(JSON\\)"):
            load()
