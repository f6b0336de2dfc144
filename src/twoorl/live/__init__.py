"""Live updates: a publish/subscribe broker (in-process, or Redis across processes) and the
Server-Sent Events streams built on it."""
