"""Every CPU process of a run (serial or an xdist worker) computes with one torch and BLAS thread."""
import os

import pytest
import torch
from threadpoolctl import threadpool_info

from claimcheck.global_state import CPU_THREADS_PER_PROCESS


def test_cpu_runs_use_one_thread_per_process(run_config):
    if run_config.device != "cpu":
        pytest.skip(f"thread limits apply to CPU runs; this run uses {run_config.device}")
    assert torch.get_num_threads() == CPU_THREADS_PER_PROCESS
    assert os.environ["OMP_NUM_THREADS"] == str(CPU_THREADS_PER_PROCESS)
    pools = threadpool_info()
    assert pools and all(pool["num_threads"] == CPU_THREADS_PER_PROCESS for pool in pools), pools
