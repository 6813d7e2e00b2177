"""``python -m deepbelief`` (also what ``torchrun -m deepbelief`` runs)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
