import sys
from pathlib import Path

# The package under test, from the checkout (no install needed).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hub"))
