"""A trustless HTTP gateway reader: fetch raw blocks over plain HTTP and verify each one locally.

Each block is requested as ``GET {gateway}/ipfs/{cid}?format=raw`` with ``Accept: application/vnd.ipld.raw``
(the trustless gateway spec), so the gateway only ever hands over bytes that we hash ourselves; it is never
asked to deserialize a file for us. Redirects are followed a few times (subdomain gateways redirect), a loop
is refused, and every response is read as a capped stream within a per-request and a total deadline.
A gateway is read-only: pair it with the local store (`LocalBlockStore(fallback=...)`) to keep what it serves.
"""

from __future__ import annotations

import time

import httpx

from offchain.ipfs._http import bounded_request
from offchain.ipfs.cid import CID
from offchain.ipfs.errors import IpfsTimeout, IpfsUnavailable
from offchain.ipfs.reader import MAX_BLOCK_BYTES, BlockReader, Clock

RAW_BLOCK_TYPE = "application/vnd.ipld.raw"


class GatewayReader(BlockReader):
    """Verified reads from a trustless gateway at ``gateway_url`` (e.g. ``https://trustless-gateway.link``)."""

    fetch_concurrency = 8

    def __init__(
        self,
        gateway_url: str,
        *,
        timeout_s: float = 30.0,
        max_redirects: int = 5,
        client: httpx.Client | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        """``timeout_s`` bounds each block request; the ``timeout_s`` passed to `cat` bounds a whole read."""
        super().__init__(clock=clock)
        base = gateway_url.rstrip("/")
        if base.endswith("/ipfs"):
            base = base[: -len("/ipfs")]
        self.gateway_url = base
        self.timeout_s = timeout_s
        self._client = client or httpx.Client(max_redirects=max_redirects)
        self._owns_client = client is None

    def describe(self) -> str:
        return f"gateway {self.gateway_url}"

    def _block_url(self, cid: CID) -> str:
        return f"{self.gateway_url}/ipfs/{cid}"

    def _fetch_block(self, cid: CID, *, limit: int, deadline: float) -> bytes:
        url = self._block_url(cid)
        return bounded_request(
            self._client,
            "GET",
            url,
            what=f"block {cid}",
            limit=min(limit, MAX_BLOCK_BYTES),
            deadline=deadline,
            per_request_s=self.timeout_s,
            clock=self._clock,
            params={"format": "raw"},
            headers={"Accept": RAW_BLOCK_TYPE, "Accept-Encoding": "identity"},
            follow_redirects=True,
            on_error_status=lambda status, detail: self._status_error(cid, url, status, detail),
            check_headers=lambda response: self._check_type(cid, response),
        )

    def _status_error(self, cid: CID, url: str, status: int, detail: str) -> Exception:
        if status in (404, 410):
            return IpfsUnavailable(
                f"{self.describe()} does not have block {cid} (HTTP {status} from {url})",
                hint="pin the content on a node the gateway can reach, or use another gateway",
            )
        if status in (408, 504):
            return IpfsTimeout(f"{self.describe()} timed out finding block {cid} (HTTP {status} from {url})")
        return IpfsUnavailable(f"{self.describe()} answered HTTP {status} for block {cid} ({url}): {detail}")

    def _check_type(self, cid: CID, response: httpx.Response) -> None:
        content_type = response.headers.get("content-type", "")
        if content_type and not content_type.startswith(RAW_BLOCK_TYPE):
            raise IpfsUnavailable(
                f"{self.describe()} answered {content_type!r} for block {cid}, not {RAW_BLOCK_TYPE}: "
                f"it is not a trustless gateway",
                hint="use a gateway that supports ?format=raw (e.g. https://trustless-gateway.link)",
            )

    def has(self, cid: CID | str) -> bool:
        """Whether the gateway answers 200 to a ``HEAD`` for the root block."""
        cid = CID.parse(cid)
        try:
            response = self._client.head(
                self._block_url(cid),
                params={"format": "raw"},
                headers={"Accept": RAW_BLOCK_TYPE},
                timeout=httpx.Timeout(self.timeout_s),
                follow_redirects=True,
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def close(self) -> None:
        if self._owns_client:
            self._client.close()
