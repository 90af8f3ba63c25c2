from bench.pipeline_load import TrackerLoad
from bench.pipeline_mix import MAX_BATCH, TrackerMix


def test_the_prepared_load_offers_the_rate_for_the_time() -> None:
    load = TrackerLoad("http://collector", "http://search", TrackerMix(seed=3), 500, 8)
    load.prepare(seconds=4)
    dues = [due for due, _ in load.planned]
    events = sum(request.events for _, request in load.planned)
    assert dues == sorted(dues) and dues[0] == 0 and dues[-1] < 4
    # The last request may carry up to a whole batch past the planned time.
    assert 4 * 500 <= events < 4 * 500 + MAX_BATCH
