"""Which per-thread settings were ever turned on, in any thread of this process.

Anomaly detection, NaN-safe mode and the forward-mode override live in ContextVars (per thread
and per asyncio task), and the dispatcher and the engines consult them on every operation or
rule, where reading one costs a function call. They read these plain flags first and the
ContextVar only once its flag is set: until then it holds its default in every thread. A flag
is set before the setting takes effect and never goes back to False, so no thread's setting is
missed; a process that used a setting once only pays the ContextVar read again.
"""

from __future__ import annotations

anomaly = False
nan_safe = False
forward_mode = False
