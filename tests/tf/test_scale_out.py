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

from fast_balance import BalancedIndexSampler
from fast_balance.tf import InputCheckpoint, balanced_dataset

HERE = Path(__file__).resolve().parent


def run_worker(*args, expect=0):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": os.pathsep.join([str(HERE)] + sys.path)}
    result = subprocess.run([sys.executable, str(HERE / "resume_worker.py"), *map(str, args)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == expect, result.stderr[-3000:]


@pytest.mark.parametrize("kill_after", [4, 9])  # inside the first epoch (6 batches), inside the second
def test_resume_after_a_kill_continues_where_the_model_stopped(image_folder, tmp_path, kill_after):
    root, _, _ = image_folder
    run_worker(root, tmp_path / "full.npz", tmp_path / "full.json", "full")
    state = tmp_path / "state.json"
    run_worker(root, tmp_path / "killed.npz", state, "kill", kill_after, expect=17)
    saved = json.loads(state.read_text())
    assert saved == {"seed": 5, "epoch": kill_after // 6, "position": kill_after % 6 * 12}
    run_worker(root, tmp_path / "resumed.npz", state, "resume")
    full, killed, resumed = (np.load(tmp_path / f"{name}.npz") for name in ("full", "killed", "resumed"))
    assert killed["labels"].size == kill_after * 12
    for key in ("labels", "sums"):
        joined = np.concatenate([killed[key], resumed[key]])
        assert joined.shape == full[key].shape
        assert np.allclose(joined, full[key], rtol=0, atol=1e-3)  # same images, same augmentation


def test_input_checkpoint_state_is_saved_by_tf_train_checkpoint(image_folder, tmp_path):
    _, paths, labels = image_folder
    ds = balanced_dataset(paths, labels, image_size=(16, 16), batch_size=12, seed=1, progress=False)
    tracker = InputCheckpoint(ds)
    tracker.on_epoch_begin(0)
    tracker.on_train_batch_end(2)  # three batches trained
    checkpoint = tf.train.Checkpoint(input=tracker.state)
    saved = checkpoint.save(str(tmp_path / "ckpt"))
    restored = InputCheckpoint(ds)
    tf.train.Checkpoint(input=restored.state).restore(saved).assert_consumed()
    assert restored.state.state_dict() == {"seed": 1, "epoch": 0, "position": 36} == tracker.state_dict()
    with pytest.raises(TypeError, match="balanced_dataset"):
        InputCheckpoint(tf.data.Dataset.range(3))


def test_materialized_epochs_hold_no_python_and_match_the_sampler(image_folder):
    _, paths, labels = image_folder
    ds = balanced_dataset(paths, labels, image_size=(16, 16), batch_size=12, seed=2, epochs=2, with_indices=True,
                          progress=False)
    graph = ds._as_serialized_graph().numpy()
    assert b"PyFunc" not in graph and b"NumpyFunction" not in graph and b"EagerPyFunc" not in graph
    got = np.concatenate([i.numpy() for _, _, i in ds])
    reference = BalancedIndexSampler(labels, batch_size=12, seed=2)
    assert np.array_equal(got, np.concatenate([reference.epoch(0).indices, reference.epoch(1).indices]))
    assert len(ds) == 12 and ds.sampler.current_epoch == 2


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
