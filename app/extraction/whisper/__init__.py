"""LLMWhisperer v2: our own async client (`client.py`), its parameters (`params.py`), typed errors
(`errors.py`), raw-result splitting (`result.py`) and durable run state (`runs.py`)."""
