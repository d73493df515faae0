"""Exact resume: what the model trained on, recorded as it trains, and training resumed there.

The sampler is a pure plan and a balanced dataset owns its position (``next_epoch``); what the
model has trained on is known only to the training loop. `InputCheckpoint` is a Keras callback
that records it after every batch as ``{"fingerprint", "epoch", "position"}``: the sampler epoch
and the sample position just after the last trained batch, and which sampler they belong to.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any, Union

import tensorflow as tf

from .._checks import check_int

keras = tf.keras

#: A recorded state, ``{"fingerprint": str, "epoch": int, "position": int}``.
State = dict[str, Any]
Path = Union[str, "os.PathLike[str]"]


class SamplerState(tf.Module):
    """``{fingerprint, epoch, position}`` as variables, so that ``tf.train.Checkpoint`` saves it
    together with the model.

    Examples
    --------
    >>> state = SamplerState("0123456789abcdef", epoch=2, position=64)
    >>> state.state_dict()
    {'fingerprint': '0123456789abcdef', 'epoch': 2, 'position': 64}
    """

    def __init__(self, fingerprint: str, epoch: int, position: int) -> None:
        super().__init__(name="fast_balance_sampler_state")
        self.fingerprint = tf.Variable(fingerprint, dtype=tf.string, trainable=False, name="fingerprint")
        self.epoch = tf.Variable(int(epoch), dtype=tf.int64, trainable=False, name="epoch")
        self.position = tf.Variable(int(position), dtype=tf.int64, trainable=False, name="position")

    def state_dict(self) -> State:
        """The state as a dict (what `InputCheckpoint` writes as JSON)."""
        return {
            "fingerprint": self.fingerprint.numpy().decode(),
            "epoch": int(self.epoch.numpy()),
            "position": int(self.position.numpy()),
        }

    def assign(self, state: State) -> None:
        self.fingerprint.assign(state["fingerprint"])
        self.epoch.assign(state["epoch"])
        self.position.assign(state["position"])


def _read_state(path: str) -> State:
    with open(path) as file:
        try:
            state = json.load(file)
        except ValueError as error:  # JSONDecodeError, UnicodeDecodeError: say which file
            raise ValueError(f"{path} does not hold an input state (JSON): {error}") from error
    if not isinstance(state, dict):
        raise ValueError(f"{path} does not hold an input state (a JSON object), got {type(state).__name__}")
    return state


class InputCheckpoint(tf.keras.callbacks.Callback):
    """Keras callback that records which batches the model trained on, and resumes exactly there.

    After every trained batch it turns Keras' count into the state ``{"fingerprint", "epoch",
    "position"}`` of the position just after that batch (``position`` 0 of the next epoch after
    an epoch's last batch), keeps it in `state` (a `SamplerState`, for ``tf.train.Checkpoint``)
    and, given ``path``, writes it there as JSON every ``save_every`` batches (atomically).

    `fit` runs ``model.fit`` from the state found in ``path`` (or restored into `state`): the rest
    of an interrupted epoch first, then the remaining epochs, so that a resumed run trains on
    exactly the batches, and augmentations, of an uninterrupted one. While it trains, Keras epoch
    ``k`` is sampler epoch ``k`` whatever else iterates the dataset.

    Parameters
    ----------
    dataset : tf.data.Dataset
        Made by `balanced_dataset` or `from_directory`.
    path : str or os.PathLike, optional
        JSON file of the state. Read when it exists (a state of another sampler is refused),
        written while training.
    save_every : int
        Batches between writes of ``path``.

    Examples
    --------
    >>> import fast_balance.tf as fbt
    >>> ds = fbt.from_directory(folder, image_size=(32, 32), batch_size=6, verbose=False)
    >>> model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(3)])
    >>> model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    >>> checkpoint = InputCheckpoint(ds, path=tmp / "input_state.json")  # read if it exists
    >>> history = checkpoint.fit(model, epochs=2, verbose=0)  # after a restart: the rest of the epochs
    >>> checkpoint.state_dict()["epoch"], InputCheckpoint.load(tmp / "input_state.json")["position"]
    (2, 0)
    """

    def __init__(self, dataset: tf.data.Dataset, path: Path | None = None, save_every: int = 1) -> None:
        super().__init__()
        if not hasattr(dataset, "rest_of_epoch"):
            raise TypeError(
                "InputCheckpoint needs a dataset made by fast_balance.tf.balanced_dataset or from_directory"
            )
        self._dataset = dataset
        self._sampler = dataset.sampler
        self._samples_per_epoch = len(dataset.sampler)
        self._batch_size = dataset.batch_size
        self._path = None if path is None else os.fspath(path)
        self._save_every = check_int("save_every", save_every, minimum=1)
        start = {"fingerprint": self._sampler.fingerprint, "epoch": dataset.first_epoch, "position": 0}
        if self._path is not None and os.path.exists(self._path):
            start = self._checked(_read_state(self._path), self._path)
        self.state = SamplerState(**start)
        self._trained: dict[str, Any] | None = None  # what is being trained: see on_train_begin
        self._epoch_base = 0

    # -- the state ----------------------------------------------------------------------------
    def state_dict(self) -> State:
        """The state just after the last trained batch."""
        return self.state.state_dict()

    @staticmethod
    def load(path: Path) -> State:
        """The state in a file written by ``InputCheckpoint(path=...)``."""
        return _read_state(os.fspath(path))

    def _checked(self, state: State, source: str) -> State:
        """``state`` if it is a state of this dataset's sampler, else ValueError naming what differs."""
        missing = {"fingerprint", "epoch", "position"} - set(state)
        if missing:
            raise ValueError(f"{source}: the input state is missing {sorted(missing)}")
        if state["fingerprint"] != self._sampler.fingerprint:
            raise ValueError(
                f"{source}: the input state is for another sampler (fingerprint {state['fingerprint']!r}, this "
                f"dataset's is {self._sampler.fingerprint!r}): same labels, options and seed are needed to resume"
            )
        epoch = check_int("epoch", state["epoch"], minimum=0)
        position = check_int("position", state["position"], minimum=0, maximum=self._samples_per_epoch)
        if position % self._batch_size:
            raise ValueError(f"{source}: position {position} is not a whole number of batches of {self._batch_size}")
        if position == self._samples_per_epoch:
            epoch, position = epoch + 1, 0
        return {"fingerprint": state["fingerprint"], "epoch": epoch, "position": position}

    # -- resuming --------------------------------------------------------------------------------
    def fit(self, model: Any, epochs: int, *, callbacks: Sequence[Any] = (), **fit_kwargs: Any) -> Any:
        """``model.fit(dataset, epochs=epochs, ...)`` from the recorded state.

        When the state is inside an epoch, its rest is trained first as Keras epoch ``epoch`` (a
        ``model.fit`` call of its own: Keras expects every pass over one dataset to have the same
        length), then epochs ``epoch + 1`` to ``epochs - 1`` on the dataset. Returns one
        ``History`` of both. ``steps_per_epoch``, ``initial_epoch`` and the data arguments are
        not accepted: this method decides them.
        """
        refused = {"x", "y", "steps_per_epoch", "initial_epoch", "batch_size", "shuffle"} & set(fit_kwargs)
        if refused:
            raise TypeError(f"InputCheckpoint.fit decides {sorted(refused)} itself; do not pass them")
        epochs = check_int("epochs", epochs, minimum=1)
        start = self._checked(self.state.state_dict(), "the input state")
        every_callback = [self, *callbacks]
        history = keras.callbacks.History()
        history.history, history.epoch = {}, []
        epoch = start["epoch"]
        runs = []
        if start["position"] and epoch < epochs:
            rest = self._dataset.rest_of_epoch(epoch, start["position"])
            runs.append((rest, dict(pinned=False, epoch=epoch, position=start["position"]), epoch + 1, epoch))
            epoch += 1
        if epoch < epochs:
            runs.append((self._dataset, dict(pinned=self._dataset.next_epoch is not None, epoch=None, position=0),
                         epochs, epoch))
        for data, trained, end, first in runs:
            self._trained = trained
            try:
                part = model.fit(data, epochs=end, initial_epoch=first, callbacks=every_callback, **fit_kwargs)
            finally:
                self._trained = None
                if self._dataset.next_epoch is not None:
                    self._dataset.pinned.assign(False)
            for key, values in part.history.items():
                history.history.setdefault(key, []).extend(values)
            history.epoch.extend(part.epoch)
        history.set_model(model)
        return history

    # -- Keras hooks -------------------------------------------------------------------------------
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self._trained is None:
            # model.fit(dataset, callbacks=[this]) directly: count batches from the epoch the
            # dataset's next pass reads. Exact unless something else iterates it during training.
            upcoming = self._dataset.next_epoch
            first = self._dataset.first_epoch if upcoming is None else int(upcoming.numpy())
            self._trained = dict(pinned=False, epoch=first, position=0, counted=True)
        self._epoch_base = 0
        self._consumed = 0
        if self._trained is not None and self._trained["pinned"]:
            self._dataset.pinned.assign(True)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch_base = self._consumed
        if self._trained is not None and self._trained["pinned"]:
            self._dataset.next_epoch.assign(epoch)  # every pass of this Keras epoch reads sampler epoch `epoch`
            self._keras_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        # Keras numbers steps from 0 in each epoch and, with steps_per_execution > 1, reports only
        # the last step of each chunk: the count comes from the step number.
        self._consumed = self._epoch_base + int(batch) + 1
        trained = self._trained
        assert trained is not None  # set by on_train_begin
        if trained["pinned"]:
            epoch, done = self._keras_epoch, (int(batch) + 1) * self._batch_size
        else:
            epoch, done = trained["epoch"], trained["position"] + self._consumed * self._batch_size
        epoch, position = epoch + done // self._samples_per_epoch, done % self._samples_per_epoch
        self.state.epoch.assign(epoch)
        self.state.position.assign(position)
        if self._path is not None and self._consumed % self._save_every == 0:
            self._write()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._trained is not None and self._trained.get("counted"):
            self._trained = None
        if self._path is not None:
            self._write()

    def _write(self) -> None:
        assert self._path is not None
        temporary = f"{self._path}.tmp"
        with open(temporary, "w") as file:
            json.dump(self.state.state_dict(), file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self._path)
