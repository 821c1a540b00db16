"""Cell claims (``store.claims``) on SQLite and PostgreSQL: exclusive, taken over only when stale,
safe under races."""
import threading


def test_a_cell_is_claimed_once(any_store):
    assert any_store.claims.claim(1, "cell-a", "w1")
    assert not any_store.claims.claim(1, "cell-a", "w2")
    assert any_store.claims.claim(1, "cell-b", "w2")
    assert any_store.claims.claim(2, "cell-a", "w2")  # another experiment
    owners = {c["cell_key"]: c["worker"] for c in any_store.claims.list(1)}
    assert owners == {"cell-a": "w1", "cell-b": "w2"}


def test_a_stale_claim_is_taken_over_and_a_done_one_never(any_store):
    assert any_store.claims.claim(1, "a", "dead", now=1000.0)
    assert any_store.claims.claim(1, "b", "dead", now=1000.0)
    any_store.claims.done(1, "b", "dead")
    assert not any_store.claims.claim(1, "a", "w2", stale_after=60, now=1030.0)   # still fresh
    assert any_store.claims.claim(1, "a", "w2", stale_after=60, now=1100.0)       # its worker died
    assert not any_store.claims.claim(1, "b", "w2", stale_after=60, now=5000.0)   # finished cells stay
    assert not any_store.claims.claim(1, "a", "w3", stale_after=60, now=1120.0)   # w2's claim is fresh


def test_heartbeat_keeps_claims_alive(any_store):
    any_store.claims.claim(1, "a", "w1", now=1000.0)
    assert any_store.claims.heartbeat(1, "w1", now=2000.0) == 1
    assert not any_store.claims.claim(1, "a", "w2", stale_after=60, now=2030.0)


def test_racing_workers_split_cells_with_no_duplicate(any_store):
    keys = [f"cell-{i}" for i in range(40)]
    won: dict[str, list[str]] = {f"w{k}": [] for k in range(4)}

    def worker(name):
        for key in keys:
            if any_store.claims.claim(7, key, name):
                won[name].append(key)

    threads = [threading.Thread(target=worker, args=(w,)) for w in won]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    taken = [k for ks in won.values() for k in ks]
    assert sorted(taken) == sorted(keys)  # no gap, no duplicate
