"""Finding a write in GetMemberActivityDetail, for an outcome the gateway did not hear.

Every write the gateway sends carries a ``TransactionNumber`` derived from its idempotency
key (transform.transaction_number) and, for redemptions, the caller's reference as
``OrderId``; the activity rows echo both (the document's sample has ``TransactionNumber``
and ``OrderId``; its field table spells the latter ``OrderID``, both are read).

A row is *ours* when it carries our TransactionNumber. Without one (a provider that does not
echo it), a row of the right kind with our OrderId and amount is taken as ours; rows with our
OrderId but another amount fit more than one reading (the caller reused the reference), so
the lookup cannot tell. The activity does not show a redemption's ``AuthorizationCode``
unless a ``TransactionAttributes`` entry carries it: a located redemption then has the row's
``TransactionID`` as its id instead, which a void cannot use (docs/providers/shopyourway.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from gateway.connectors.shopyourway.transform import get, integer, text

Found = Literal["found", "absent", "ambiguous"]


def rows(activity: Any) -> list[Any]:
    details = get(get(activity, "TransactionDetails"), "TransactionDetail")
    if isinstance(details, dict):
        details = [details]
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def redeemed(row: Any) -> int:
    return integer(row, "TotalPointsRedeemed") or 0


def _kind(row: Any) -> str:
    """``R`` redemption, ``V`` void (points given back), else the row's own type."""
    kind = (text(row, "TransactionType") or "").upper()
    if kind in ("R", "V"):
        return kind
    points = redeemed(row)
    return "R" if points > 0 else "V" if points < 0 else kind


def find(
    activity: Any,
    kind: Literal["R", "V"],
    number: str,
    order_id: str,
    matches: Callable[[Any], bool],
) -> tuple[Found, Any]:
    """The row of our write of ``kind``: by TransactionNumber, else by OrderId and
    ``matches`` (the amount, or the authorization a void reverses)."""
    candidates = [r for r in rows(activity) if _kind(r) == kind]
    for row in candidates:
        if text(row, "TransactionNumber") == number:
            return "found", row
    same_order = [r for r in candidates if text(r, "OrderId", "OrderID") == order_id]
    match = next((r for r in same_order if matches(r)), None)
    if match is not None:
        return "found", match
    return ("ambiguous" if same_order else "absent"), None


def authorization_code(row: Any) -> str | None:
    """The redemption's AuthorizationCode, when the row's attributes carry it."""
    attributes = get(get(row, "TransactionAttributes"), "TransactionAttribute")
    if isinstance(attributes, dict):
        attributes = [attributes]
    for item in attributes if isinstance(attributes, list) else []:
        key = (text(item, "TransactionAttributeKey") or "").replace("_", "").lower()
        if key == "authorizationcode":
            return text(item, "TransactionAttributeValue")
    return text(row, "AuthorizationCode")


def voids(row: Any, code: str) -> bool:
    """A void row reverses the authorization ``code`` (by attribute, or by our OrderId,
    which a gateway void sets to the code)."""
    return authorization_code(row) == code or text(row, "OrderId", "OrderID") == code[:40]
