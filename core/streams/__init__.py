"""Server-Sent Event streams shared by the chat and the estimator (framework-free; `api/streams.py`
turns one into a Litestar response)."""
