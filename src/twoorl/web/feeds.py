"""RSS, Atom and JSON Feed routes (being written)."""

from fastapi import APIRouter

router = APIRouter()
