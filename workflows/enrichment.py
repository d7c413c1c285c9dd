"""Online reputation for indicators, from every provider that knows the kind.

Providers are asked one after the other; one that fails is named in a note
and the rest still answer, so an incident is never held up by intel. Private
and reserved addresses are never sent out: they mean nothing to a provider
and would tell it about our network.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from integrations.intel import Provider, ProviderUnavailable, Verdict, cache_key
from state import Store, intel_cache
from state.clock import utcnow
from workflows.indicators import Indicator, is_public

log = logging.getLogger(__name__)


class Stopped(Exception):
    """The process is stopping: answers cut short are not recorded as the providers'."""


class OnlineEnricher:
    def __init__(self, providers: list[Provider], stop: threading.Event | None = None) -> None:
        self._providers = providers
        self._stop = stop or threading.Event()

    def online(self, indicator: Indicator, fresh: bool = False) -> tuple[dict, list[str]]:
        """Every provider's verdict; `fresh` (Enrich again) skips cached answers."""
        verdicts, failed = [], []
        if indicator.kind in ("ipv4", "ipv6") and not is_public(indicator.value):
            return {}, []
        for provider in self._providers:
            if indicator.kind not in provider.kinds:
                continue
            try:
                ask = provider.refresh if fresh and hasattr(provider, "refresh") else (
                    provider.lookup)
                verdicts.append(ask(indicator.kind, indicator.value).to_dict())
            except ProviderUnavailable as error:
                failed.append(str(error))
            except Exception:  # a provider's bug must not cost the incident its card
                log.exception("intel.lookup_failed", extra={"provider": provider.name})
                failed.append(f"{provider.name}: unexpected error (see the log)")
        if self._stop.is_set():
            raise Stopped("stopping: enrichment is left for the next start")
        if not verdicts:
            return {}, failed
        flagged = any(verdict.get("malicious") for verdict in verdicts)
        return {"verdicts": verdicts, "malicious": flagged}, failed


class CachedProvider:
    """A `Provider` whose answers are kept in the store for `ttl_seconds`.

    "Not known" answers are kept too: asking again within the TTL would spend
    quota on the same answer. Errors are not kept, so the next lookup asks.
    """

    def __init__(
        self,
        provider: Provider,
        store: Store,
        ttl_seconds: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
        self._provider = provider
        self._store = store
        self._ttl_seconds = ttl_seconds
        self._clock = clock
        self.name = provider.name
        self.kinds = provider.kinds

    def lookup(self, kind: str, value: str) -> Verdict:
        key = cache_key(kind, value)
        cached = intel_cache.get(self._store.db, self.name, key, self._clock())
        if cached is not None:
            return Verdict.from_dict(cached)
        return self.refresh(kind, value)

    def refresh(self, kind: str, value: str) -> Verdict:
        """Ask the provider whatever the cache holds, and keep the new answer."""
        key = cache_key(kind, value)
        verdict = self._provider.lookup(kind, value)
        intel_cache.put(
            self._store.db, self.name, key, verdict.to_dict(), self._ttl_seconds, self._clock()
        )
        return verdict
