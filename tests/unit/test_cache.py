"""The cache of the registry's reads and the resolver's schemas (libs/cache.py)."""

from libs.cache import TtlCache
from libs.formats.iglu import SchemaKey


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_values_expire_after_the_ttl() -> None:
    clock = Clock()
    cache: TtlCache[str, str] = TtlCache(10, ttl_s=5, clock=clock)
    cache.put("a", "A")
    clock.now = 4.9
    assert cache.get("a") == "A"
    clock.now = 5.0
    assert cache.get("a") is None
    assert len(cache) == 0


def test_the_least_recently_used_value_goes_first() -> None:
    cache: TtlCache[str, int] = TtlCache(2, ttl_s=60)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)


def test_clear_forgets_everything_and_size_zero_keeps_nothing() -> None:
    cache: TtlCache[str, int] = TtlCache(2, ttl_s=60)
    cache.put("a", 1)
    cache.clear()
    assert cache.get("a") is None
    disabled: TtlCache[str, int] = TtlCache(0, ttl_s=60)
    disabled.put("a", 1)
    assert disabled.get("a") is None


def test_a_value_read_before_a_clear_is_not_kept() -> None:
    """A read that raced a write (which clears the cache) may hold what the write replaced."""
    cache: TtlCache[str, int] = TtlCache(2, ttl_s=60)
    before_the_write = cache.generation
    cache.clear()
    cache.put("a", 1, before_the_write)
    assert cache.get("a") is None
    cache.put("a", 2, cache.generation)
    assert cache.get("a") == 2


def test_ttl_cache_forgets_the_least_recently_used_first() -> None:
    cache: TtlCache[SchemaKey, int] = TtlCache(size=2, ttl_s=100, clock=Clock())
    a, b, c = (SchemaKey.parse_uri(f"iglu:v/{n}/jsonschema/1-0-0") for n in "abc")
    cache.put(a, 1)
    cache.put(b, 2)
    assert cache.get(a) == 1
    cache.put(c, 3)
    assert (cache.get(a), cache.get(b), cache.get(c)) == (1, None, 3)
