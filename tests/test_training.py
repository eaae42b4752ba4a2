"""The training loop: seeded determinism, foreach optimizers, and stacked seeds equal to sequential training."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from claimcheck.memo import keyable
from claimcheck.store import Store
from fixtures import datasets
from fixtures.training import TrainSpec, evaluate, make_optimizer, predict_logits, train, train_stacked
from fixtures.zoo import DataSpec, Recipe
from models.mlp import MLPConfig
from models.proposals import ConfidencePenalizedCE
from models.residual import ResMLPConfig

CONFIG = MLPConfig(64, (32, 32), 10)
SPEC = TrainSpec(epochs=3, lr=1e-3, batch_size=64, track_test=True)
SEEDS = [3, 4, 5]
# Stacked and sequential runs can differ only by float32 rounding in batched matmuls: measured bit-identical on
# this machine (every parameter and buffer, 5 seeds, 5 epochs, with and without BatchNorm); another processor may
# pick different kernels for a batched and a single matmul.
PARAM_TOL = 1e-4


def _seeded(config, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return config.build()


def fresh_models() -> list[torch.nn.Module]:
    models = []
    for seed in SEEDS:
        torch.manual_seed(seed)
        models.append(CONFIG.build())
    return models


def test_training_is_deterministic_for_a_seed():
    data = datasets.digits(0)
    a, b = fresh_models()[:1], fresh_models()[:1]
    history_a = train(a[0], data, SPEC, seed=11)
    history_b = train(b[0], data, SPEC, seed=11)
    assert history_a.train_loss == history_b.train_loss
    assert all(torch.equal(p, q) for p, q in zip(a[0].parameters(), b[0].parameters()))


def test_stacked_training_gives_the_same_parameters_as_sequential_training():
    datas = [datasets.digits(s) for s in SEEDS]
    sequential, stacked = fresh_models(), fresh_models()
    seq_hist = [train(m, d, SPEC, seed=s) for m, d, s in zip(sequential, datas, SEEDS)]
    stk_hist = train_stacked(stacked, datas, SPEC, seeds=SEEDS)
    for m_seq, m_stk in zip(sequential, stacked):
        diff = max((p - q).abs().max().item() for p, q in zip(m_seq.parameters(), m_stk.parameters()))
        assert diff < PARAM_TOL, diff
    for h_seq, h_stk in zip(seq_hist, stk_hist):
        assert h_seq.train_loss == pytest.approx(h_stk.train_loss, rel=1e-4)
        assert h_seq.test_acc == pytest.approx(h_stk.test_acc, abs=2 / len(datas[0].y_test))
    assert evaluate(stacked[0], datas[0].x_test, datas[0].y_test)[1] > 0.3  # chance 0.1: it learned


@pytest.mark.parametrize("optimizer", [dict(optimizer="adam", weight_decay=1e-4),
                                       dict(optimizer="sgd", momentum=0.9, weight_decay=5e-4)])
def test_foreach_optimizers_take_the_steps_of_the_per_tensor_loop(optimizer):
    """make_optimizer uses foreach=True: on a CPU the foreach ops run the per-tensor kernels in a C++ loop, so the
    arithmetic is the per-tensor loop's, with less Python per step (12 x 64 MLP: 4.2 -> 3.2 ms per Adam step)."""
    spec = TrainSpec(epochs=1, lr=1e-2, batch_size=32, **optimizer)
    x, y = torch.randn(32, 64), torch.randint(0, 10, (32,))
    runs = []
    for foreach in (True, False):
        torch.manual_seed(0)
        model = MLPConfig(64, (16, 16), 10, batchnorm=True).build()
        opt = make_optimizer(model.parameters(), spec)
        assert opt.defaults["foreach"] is True
        opt.defaults["foreach"] = foreach
        for group in opt.param_groups:
            group["foreach"] = foreach
        for _ in range(20):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        runs.append(model.state_dict())
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])


def test_stacked_early_stopping_stops_each_seed_where_sequential_training_stops_it():
    """Each seed keeps the state and history of the epoch it reached the target in; the others train on."""
    spec = TrainSpec(epochs=15, lr=1e-2, batch_size=64, stop_at_train_acc=0.9)
    config = MLPConfig(64, (8,), 10)
    datas = [datasets.digits(3).subset_train(300).standardized()] * len(SEEDS)
    sequential, stacked = ([_seeded(config, s) for s in SEEDS] for _ in range(2))
    seq_hist = [train(m, d, spec, seed=s) for m, d, s in zip(sequential, datas, SEEDS)]
    stk_hist = train_stacked(stacked, datas, spec, seeds=SEEDS)
    epochs = [h.epochs_run for h in seq_hist]
    assert len(set(epochs)) > 1 and max(epochs) < spec.epochs, epochs   # measured: 14, 10 and 11 epochs
    assert [h.epochs_run for h in stk_hist] == epochs
    for h_seq, h_stk in zip(seq_hist, stk_hist):
        assert h_seq.train_acc == h_stk.train_acc
    for m_seq, m_stk in zip(sequential, stacked):
        diff = max((p - q).abs().max().item() for p, q in zip(m_seq.parameters(), m_stk.parameters()))
        assert diff < PARAM_TOL, diff


def test_stopping_at_a_training_loss_stops_each_seed_at_the_first_epoch_at_or_below_it():
    """TrainSpec.stop_at_train_loss (6.5's twins): the loss of the whole training split in eval mode, recorded in
    History.train_eval_loss; a seed keeps the state of its stopping epoch, stacked or not."""
    target = 0.5
    spec = TrainSpec(epochs=30, lr=1e-2, batch_size=64, stop_at_train_loss=target)
    config = MLPConfig(64, (8,), 10)
    data = datasets.digits(3).subset_train(300).standardized()
    sequential, stacked = ([_seeded(config, s) for s in SEEDS] for _ in range(2))
    seq_hist = [train(m, data, spec, seed=s) for m, s in zip(sequential, SEEDS)]
    stk_hist = train_stacked(stacked, [data] * len(SEEDS), spec, seeds=SEEDS)
    epochs = [h.epochs_run for h in seq_hist]
    assert len(set(epochs)) > 1 and max(epochs) < spec.epochs, epochs   # measured: 10, 9 and 9 epochs
    assert [h.epochs_run for h in stk_hist] == epochs
    for model, h_seq, h_stk in zip(sequential, seq_hist, stk_hist):
        assert len(h_seq.train_eval_loss) == len(h_seq.train_acc) == h_seq.epochs_run and not h_seq.test_acc
        assert h_seq.train_eval_loss[-1] <= target < min(h_seq.train_eval_loss[:-1])
        assert h_seq.train_eval_loss[-1] == evaluate(model, data.x_train, data.y_train)[0]
        assert h_seq.train_eval_loss == pytest.approx(h_stk.train_eval_loss, rel=1e-5)
    for m_seq, m_stk in zip(sequential, stacked):
        diff = max((p - q).abs().max().item() for p, q in zip(m_seq.parameters(), m_stk.parameters()))
        assert diff < PARAM_TOL, diff


def test_stop_at_train_loss_enters_a_cache_key_only_when_it_is_set():
    """The field came after models were cached: unset, a TrainSpec and a Recipe key as they did without it."""
    spec = TrainSpec(epochs=2, lr=1e-3, batch_size=8)
    before = {k: v for k, v in dataclasses.asdict(spec).items() if k != "stop_at_train_loss"}
    assert spec.spec() == before and keyable(spec) == {"type": "TrainSpec", **before}
    recipe = Recipe(arch=CONFIG, data=DataSpec("digits"), train=spec)
    assert recipe.spec()["train"] == before
    stopping = dataclasses.replace(spec, stop_at_train_loss=0.01)
    assert stopping.spec() == {**before, "stop_at_train_loss": 0.01}
    assert Store.key(dataclasses.replace(recipe, train=stopping).spec()) != Store.key(recipe.spec())


def test_stacked_training_with_a_schedule_and_a_custom_loss_equals_sequential_training():
    """A learning-rate schedule and a loss of (logits, targets) apply to each stacked seed as `train` applies
    them. Measured here: every parameter and every epoch's loss bit-identical after 3 epochs; batched and single
    matmuls may round differently on another processor, hence PARAM_TOL."""
    kw = dict(loss_fn=ConfidencePenalizedCE(0.3), lr_at=lambda step: 1e-3 * (1 + step % 7))
    datas = [datasets.digits(s) for s in SEEDS]
    sequential, stacked = fresh_models(), fresh_models()
    seq_hist = [train(m, d, SPEC, seed=s, **kw) for m, d, s in zip(sequential, datas, SEEDS)]
    stk_hist = train_stacked(stacked, datas, SPEC, seeds=SEEDS, **kw)
    for m_seq, m_stk in zip(sequential, stacked):
        diff = max((p - q).abs().max().item() for p, q in zip(m_seq.parameters(), m_stk.parameters()))
        assert diff < PARAM_TOL, diff
    for h_seq, h_stk in zip(seq_hist, stk_hist):
        assert h_seq.train_loss == pytest.approx(h_stk.train_loss, rel=1e-4)


BN_CONFIG = ResMLPConfig(64, 16, 2, 10)   # Linear -> BatchNorm -> ReLU blocks


def pre_batchnorm_biases(model: torch.nn.Module) -> set[str]:
    """Biases of a layer that feeds a BatchNorm directly: their true gradient is 0 (BN subtracts the batch mean),
    so Adam turns float rounding (~1e-9) into steps of up to lr in either direction; they and the running means
    they shift differ between any two float orders of the same computation."""
    names = set()
    for prefix, module in model.named_modules():
        children = list(module.named_children())
        for (name, layer), (_, after) in zip(children, children[1:]):
            if isinstance(after, torch.nn.modules.batchnorm._BatchNorm) and getattr(layer, "bias", None) is not None:
                names.add(f"{prefix}.{name}.bias".lstrip("."))
    return names


def test_stacked_batchnorm_nets_keep_their_own_running_statistics_and_train_as_sequential_ones():
    datas = [datasets.digits(s) for s in SEEDS]
    spec = TrainSpec(epochs=3, lr=1e-3, batch_size=64, track_test=True)
    sequential, stacked = ([BN_CONFIG.build() for _ in SEEDS] for _ in range(2))
    for m_seq, m_stk in zip(sequential, stacked):
        m_stk.load_state_dict(m_seq.state_dict())
    seq_hist = [train(m, d, spec, seed=s) for m, d, s in zip(sequential, datas, SEEDS)]
    stk_hist = train_stacked(stacked, datas, spec, seeds=SEEDS)
    noisy = pre_batchnorm_biases(sequential[0])
    assert noisy == {"blocks.0.f.0.bias", "blocks.1.f.0.bias"}
    steps = spec.epochs * -(-len(datas[0].y_train) // spec.batch_size)
    for m_seq, m_stk, data in zip(sequential, stacked, datas):
        a, b = m_seq.state_dict(), m_stk.state_dict()
        assert torch.equal(a["blocks.0.f.1.num_batches_tracked"], torch.tensor(steps))
        for name in a:
            # measured here: every tensor bit-identical (the earlier vmap stacking: 6e-8 for every other parameter
            # and running variance after 3 epochs); the pre-BN biases need the wide bound only where a processor
            # rounds batched and single matmuls differently
            tol = 2 * spec.lr * steps if name in noisy or name.endswith("running_mean") else 1e-5
            assert (a[name].double() - b[name].double()).abs().max() <= tol, name
        agree = (predict_logits(m_seq, data.x_test).argmax(1) == predict_logits(m_stk, data.x_test).argmax(1))
        assert agree.float().mean() >= 0.98   # measured: 100% (the vmap stacking: 99.4%, 2 of 360 test digits)
    for h_seq, h_stk in zip(seq_hist, stk_hist):
        assert h_seq.train_loss == pytest.approx(h_stk.train_loss, rel=1e-5)
        assert h_seq.test_acc == pytest.approx(h_stk.test_acc, abs=3 / len(datas[0].y_test))
    # each seed's statistics are its own: the three seeds' running means differ
    means = [m.state_dict()["blocks.1.f.1.running_mean"] for m in stacked]
    assert not torch.allclose(means[0], means[1])


@pytest.mark.parametrize("bad", [dict(epochs=0), dict(batch_size=0), dict(lr=0.0), dict(optimizer="rmsprop")])
def test_train_spec_rejects_invalid_settings(bad):
    with pytest.raises(ValueError):
        TrainSpec(**{"epochs": 1, "lr": 1e-3, "batch_size": 8, **bad})


def test_the_reference_workload_runs_and_restores_the_thread_count():
    import torch

    from fixtures.reference import reference_seconds

    threads = torch.get_num_threads()
    assert 0 < reference_seconds(steps=20) < 5
    assert torch.get_num_threads() == threads
