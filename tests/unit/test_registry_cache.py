"""The registry's read cache (iglu_registry/cache.py)."""

from iglu_registry.cache import ReadCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_values_expire_after_the_ttl() -> None:
    clock = Clock()
    cache: ReadCache[str] = ReadCache(10, ttl_s=5, clock=clock)
    cache.put("a", "A")
    clock.now = 4.9
    assert cache.get("a") == "A"
    clock.now = 5.0
    assert cache.get("a") is None
    assert len(cache) == 0


def test_the_least_recently_used_value_goes_first() -> None:
    cache: ReadCache[int] = ReadCache(2, ttl_s=60)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)


def test_clear_forgets_everything_and_size_zero_keeps_nothing() -> None:
    cache: ReadCache[int] = ReadCache(2, ttl_s=60)
    cache.put("a", 1)
    cache.clear()
    assert cache.get("a") is None
    disabled: ReadCache[int] = ReadCache(0, ttl_s=60)
    disabled.put("a", 1)
    assert disabled.get("a") is None


def test_a_value_read_before_a_clear_is_not_kept() -> None:
    """A read that raced a write (which clears the cache) may hold what the write replaced."""
    cache: ReadCache[int] = ReadCache(2, ttl_s=60)
    before_the_write = cache.generation
    cache.clear()
    cache.put("a", 1, before_the_write)
    assert cache.get("a") is None
    cache.put("a", 2, cache.generation)
    assert cache.get("a") == 2
