"""Plausible short posts from a small vocabulary: varied enough to look like people, cheap
enough to make a million of. No @mentions (they would need mention jobs) and no links."""

from __future__ import annotations

import random
from functools import cache

from twoorl.posts.text import hashtags

_OPENERS = [
    "",
    "Honestly,",
    "Just realised",
    "Today",
    "Fun fact:",
    "Note to self:",
    "Hot take:",
    "Update:",
    "Finally",
    "Still thinking about how",
    "Nobody told me",
    "Good morning!",
]
_SUBJECTS = [
    "the coffee downstairs",
    "my cat",
    "the night train",
    "our new release",
    "the garden",
    "this podcast",
    "grandma's soup",
    "the river path",
    "my old laptop",
    "the bakery on the corner",
    "the weather",
    "this book",
    "the build",
    "the team",
    "the last episode",
    "my bike",
    "the city library",
    "the sunset",
    "that song",
    "the first snow",
]
_PREDICATES = [
    "is surprisingly good",
    "made my day",
    "needs more attention",
    "is late again",
    "works on the first try",
    "looks better than ever",
    "deserves a second chance",
    "is the best part of the week",
    "broke in a new and exciting way",
    "smells like rain",
    "is slower than I remember",
    "keeps getting better",
    "feels like a small miracle",
    "was worth the wait",
    "is quietly perfect",
]
_TAILS = [
    ".",
    "!",
    "...",
    " :)",
    ", who knew.",
    ", again.",
    ". Ask me how.",
    ". More soon.",
    "?!",
    ", as always.",
]
# Mixed case and non-ASCII on purpose: post_tags must hold the normalised (case-folded) form.
_TAGS = [
    "coffee",
    "Python",
    "music",
    "books",
    "running",
    "Cats",
    "weather",
    "café",
    "TIL",
    "gardening",
    "travel",
    "OpenSource",
    "Straße",
    "photography",
    "cooking",
    "morning",
    "Twoorl",
    "weekend",
]
TAG_SHARE = 0.3  # about this many posts carry one or two hashtags


def post(rng: random.Random, max_length: int) -> tuple[str, tuple[str, ...]]:
    """One post of at most ``max_length`` characters (ASCII and composed letters only, so
    ``len`` is what a person counts) and its tags, normalised as ``create_post`` stores them."""
    opener = rng.choice(_OPENERS)
    subject = rng.choice(_SUBJECTS)
    if not opener or opener.endswith(("!", ":")):
        subject = subject[0].upper() + subject[1:]
    text = f"{opener} {subject} {rng.choice(_PREDICATES)}{rng.choice(_TAILS)}".strip()
    if len(text) > max_length:
        return text[:max_length].rstrip(), ()
    if rng.random() < TAG_SHARE:
        suffix = " " + " ".join("#" + t for t in rng.sample(_TAGS, rng.choice((1, 1, 2))))
        if len(text) + len(suffix) <= max_length:
            return text + suffix, _tags_of(suffix)
    return text, ()


@cache
def _tags_of(suffix: str) -> tuple[str, ...]:
    # The text before the suffix has no '#', so its tags are the suffix's; asking the real
    # parser (once per distinct suffix) keeps post_tags exactly what create_post writes.
    return tuple(hashtags(suffix))
