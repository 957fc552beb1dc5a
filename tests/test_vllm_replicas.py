"""How the vLLM backend's data parallelism cuts a node and a run (the real engines: test_vllm_real)."""

from __future__ import annotations

import pytest

from j1eval.backends.base import Request
from j1eval.backends.vllm_replicas import deal_pairs, replica_slots, split_cores
from j1eval.errors import InputError
from j1eval.types import Pair, Prompt


def _requests(sizes: dict[str, int]) -> list[Request]:
    out = []
    for pair_id, count in sizes.items():
        pair = Pair(pair_id, "b", "s", "q", "x", "y", 1)
        for order in ("ab", "ba")[:count]:
            out.append(Request(Prompt.user("q"), pair, order))
    return out


def test_cores_are_cut_into_contiguous_shares():
    assert split_cores("0-3", 2) == ["0-1", "2-3"]
    assert split_cores("0-4", 2) == ["0-2", "3-4"]
    assert split_cores("0,2,4-5", 3) == ["0,2", "4", "5"]
    with pytest.raises(InputError, match="more replicas than the 2 CPU core"):
        split_cores("0-1", 3)
    with pytest.raises(InputError, match="cpu_threads_bind"):
        split_cores("zero", 2)


def test_whole_pairs_go_to_one_replica_and_shares_are_even():
    requests = _requests({f"p{i}": 2 for i in range(7)})
    shares = deal_pairs(requests, 3)
    assert sorted(len(s) for s in shares) == [4, 4, 6]
    for share in shares:
        pairs = {requests[i].pair.pair_id for i in share}
        assert sum(1 for r in requests if r.pair.pair_id in pairs) == len(share)  # both orders together
    assert sorted(i for s in shares for i in s) == list(range(14))


def test_gpu_replicas_see_disjoint_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5,6,7")
    slots = replica_slots({"data_parallel_size": 2, "keep_engine": True}, "cuda", 2, 2, "0-15")
    assert [s.env["CUDA_VISIBLE_DEVICES"] for s in slots] == ["4,5", "6,7"]
    assert all(s.options == {"tensor_parallel_size": 2} for s in slots)
    with pytest.raises(InputError, match="tensor_parallel_size 2 x data_parallel_size 3 = 6 devices"):
        replica_slots({}, "cuda", 2, 3, "0-15")


def test_cpu_replicas_bind_their_own_cores():
    slots = replica_slots({"cpu_threads_bind": "2-5"}, "cpu", 1, 2, "0-7")
    assert [s.options["cpu_threads_bind"] for s in slots] == ["2-3", "4-5"] and all(not s.env for s in slots)
    assert [s.options["cpu_threads_bind"] for s in replica_slots({}, "cpu", 1, 2, "0-1")] == ["0", "1"]
