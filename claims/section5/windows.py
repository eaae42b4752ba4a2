"""5.2's CNN runs: deficit windows (Achille et al. 2019) and regularization timing (Golatkar et al. 2019).

Per seed, one stacked run of MNIST-1D's reference CNN (conv_members.py): every member starts from the seed's
first initialization (the control's replicate from a second one) and sees the same batches, so a member with a
window at epoch s is the no-deficit run until s, exactly as if branched from it there (optimizer state
included). Each member is measured at the epoch its comparison needs, on extra locally generated test samples.
"""
from __future__ import annotations

import dataclasses

import torch

from claimcheck.memo import measurement
from claimcheck.seeds import derive
from claims.section5.conv_members import CNNMembersConfig, ReferenceCNNConfig
from claims.section5.deficits import MemberWindows, StepDecay, Window
from fixtures import datasets
from fixtures.training import TrainSpec, train
from fixtures.training.stacked_members import stacked_cross_entropy
from fixtures.zoo import DataSpec

NONE, REPLICATE = "none", "none, second init"
ALWAYS, EARLY, LATE = "shift always", "shift early", "shift late"
EXTRA_TEST_SEED = 7   # MNIST-1D's generator with another seed than the training set's 42: the same 10 templates,
                      # fresh draws of shift, scale, shear and noise


@dataclasses.dataclass(frozen=True)
class MemberRun:
    """One stacked run per seed: members (name, window, initialization) trained together on the same batches,
    each measured on the extra test samples at the epochs `measured_at` names."""

    members: tuple[tuple[str, Window, int], ...]
    measured_at: tuple[tuple[int, tuple[str, ...]], ...]   # (epoch, members measured then)
    epochs: int
    optimizer: str = "adam"
    lr: float = 1e-2
    decay: float = 0.97       # learning rate x decay per epoch, from the first epoch
    momentum: float = 0.9     # sgd only
    batch: int = 128
    channels: int = 25        # the reference CNN's width
    blur_factor: int = 4      # avg-pool by 4, then linear upsampling (Achille et al.'s blur, for 1-D signals)
    max_shift: int = 4
    extra_test: int = 12_500  # test samples generated for scoring (the data set's own 1,000 draw the curves)
    curve_every: int = 5

    @property
    def names(self) -> list[str]:
        return [m[0] for m in self.members]


def blurred(start: int) -> str:
    return f"blur at {start}"


def window_sweep(starts: tuple[int, ...], window: int, recovery: int, **settings) -> MemberRun:
    """Achille et al.'s protocol: a blur window of `window` epochs at each start, each followed by `recovery`
    clean epochs and measured then, with no blur (and the control's second initialization) at the same length."""
    ends = [s + window + recovery for s in starts]
    members = ((NONE, Window(), 0), *((blurred(s), Window("blur", s, s + window), 0) for s in starts),
               (REPLICATE, Window(), 1))
    return MemberRun(members, tuple((e, (NONE, REPLICATE, blurred(s))) for s, e in zip(starts, ends)),
                     epochs=max(ends), **settings)


def regularization_timing(switch: int, epochs: int, **settings) -> MemberRun:
    """Golatkar et al.'s protocol: random shifts never, always, only before `switch` or only from `switch` on,
    all measured at the end."""
    members = ((NONE, Window(), 0), (ALWAYS, Window("shift", 0, epochs), 0), (EARLY, Window("shift", 0, switch), 0),
               (LATE, Window("shift", switch, epochs), 0))
    return MemberRun(members, ((epochs, tuple(m[0] for m in members)),), epochs=epochs, **settings)


def extra_test_split(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n MNIST-1D samples drawn afresh (EXTRA_TEST_SEED), for scoring only."""
    split = datasets.mnist1d(EXTRA_TEST_SEED, num_samples=n)
    return torch.cat([split.x_train, split.x_test]), torch.cat([split.y_train, split.y_test])


@torch.no_grad()
def _accuracy(model, x: torch.Tensor, y: torch.Tensor, members: list[int], chunk: int = 2500) -> list[float]:
    hits = sum((model(x[i:i + chunk], members=members).argmax(-1) == y[i:i + chunk]).sum(1)
               for i in range(0, len(x), chunk))
    return (hits.double() / len(x)).tolist()


@measurement
def member_runs(zoo, run: MemberRun, seed: int) -> dict:
    """{"acc": {"member@epoch": accuracy on the extra test samples}, "curves": {member: accuracy on the data
    set's own test split every curve_every epochs}, "train_loss": [mean over members per epoch]}."""
    names = run.names
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive(seed, "init"))
        model = CNNMembersConfig(ReferenceCNNConfig(run.channels), tuple(m[2] for m in run.members)).build()
    data = zoo.data(DataSpec("mnist1d"), seed)
    device = zoo.run.device
    x_extra, y_extra = (t.to(device) for t in extra_test_split(run.extra_test))
    x_own, y_own = data.x_test.to(device), data.y_test.to(device)
    wanted, acc, curves = dict(run.measured_at), {}, {n: [] for n in names}

    def measure(epoch: int, net) -> None:
        net.eval()
        if epoch in wanted:
            index = [names.index(n) for n in wanted[epoch]]
            acc.update({f"{n}@{epoch}": a for n, a in zip(wanted[epoch], _accuracy(net, x_extra, y_extra, index))})
        if epoch % run.curve_every == 0:
            for n, a in zip(names, _accuracy(net, x_own, y_own, list(range(len(names))))):
                curves[n].append(a)
    steps = -(-len(data.y_train) // run.batch)
    spec = TrainSpec(epochs=run.epochs, lr=run.lr, batch_size=run.batch, optimizer=run.optimizer,
                     momentum=run.momentum)
    history = train(model, data, spec, seed=derive(seed, "batches"), device=device, loss_fn=stacked_cross_entropy,
                    lr_at=StepDecay(run.lr, run.decay, steps),
                    batch_transform=MemberWindows(tuple(m[1] for m in run.members), run.blur_factor,
                                                  run.max_shift).transform(derive(seed, "augment")),
                    on_epoch_end=measure)
    return {"acc": acc, "curves": curves, "train_loss": [v / len(names) for v in history.train_loss]}
