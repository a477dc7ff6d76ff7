"""Survey flow definitions, their JSON Schema and the service catalog."""

from pathlib import Path

FLOWS_DIR = Path(__file__).resolve().parent
