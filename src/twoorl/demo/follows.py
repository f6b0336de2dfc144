"""Who follows whom: everyone follows exactly ``per_user`` distinct others, chosen with
Zipf-like popularity, so a few accounts are followed by nearly everyone and most by a few,
as on real networks."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

ZIPF_EXPONENT = 1.0  # weight of the k-th most popular account: 1 / k**s


def follow_pairs(users: int, per_user: int, rng: random.Random) -> Iterator[tuple[int, int]]:
    """(follower, followee) index pairs over ``range(users)``, never self, no duplicates."""
    if per_user == 0:
        return
    # Popularity ranks are shuffled, so celebrities land on random shards (not just demo1).
    rank_of = list(range(users))
    rng.shuffle(rank_of)
    weights = [1.0 / (rank_of[u] + 1) ** ZIPF_EXPONENT for u in range(users)]
    if 2 * per_user <= users - 1:
        chosen_cumulative = list(itertools.accumulate(weights))
        for follower in range(users):
            for followee in _draw(rng, users, per_user, chosen_cumulative, follower):
                yield follower, followee
    else:
        # Dense: draw the few people *not* followed (the unpopular ones most likely), so
        # rejection sampling never chases the last rare accounts.
        skipped_cumulative = list(itertools.accumulate(1.0 / w for w in weights))
        for follower in range(users):
            skipped = _draw(rng, users, users - 1 - per_user, skipped_cumulative, follower)
            for followee in range(users):
                if followee != follower and followee not in skipped:
                    yield follower, followee


def _draw(
    rng: random.Random, users: int, count: int, cumulative: list[float], exclude: int
) -> set[int]:
    """``count`` distinct indices other than ``exclude``, weighted; ``count`` is at most half
    the candidates, so a handful of rounds suffice."""
    chosen: set[int] = set()
    population = range(users)
    while len(chosen) < count:
        for index in rng.choices(population, cum_weights=cumulative, k=2 * (count - len(chosen))):
            if index != exclude:
                chosen.add(index)
                if len(chosen) == count:
                    break
    return chosen
