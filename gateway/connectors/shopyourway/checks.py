"""What ShopYourWay requires of an enrollment before any call: CreateMember's required fields
and documented lengths, the countries and phone format it takes, its PIN length."""

from __future__ import annotations

from gateway.domain.commands import EnrollRequest
from gateway.domain.errors import FieldError

_LIMITS = {  # CreateMember's documented lengths
    "email": ("EmailAddress", 50),
    "first_name": ("FirstName", 30),
    "last_name": ("LastName", 30),
    "address.line1": ("Address1", 40),
    "address.line2": ("Address2", 40),
    "address.city": ("City", 30),
    "address.region": ("State", 2),
    "address.postal_code": ("ZipCode", 6),
}


def enroll_errors(request: EnrollRequest, pin: str | None) -> list[FieldError]:
    address = request.address
    values = {
        "email": request.email,
        "first_name": request.first_name,
        "last_name": request.last_name,
        "address.line1": address.line1 if address else None,
        "address.line2": address.line2 if address else None,
        "address.city": address.city if address else None,
        "address.region": address.region if address else None,
        "address.postal_code": address.postal_code if address else None,
    }
    found = [
        FieldError(field=name, message="required by this program's provider")
        for name in ("email", "first_name", "last_name", "address.postal_code")
        if not values[name]
    ]
    for name, (wire_name, limit) in _LIMITS.items():
        value = values[name]
        if value and len(value) > limit:
            found.append(
                FieldError(field=name, message=f"at most {limit} characters ({wire_name})")
            )
    if address and address.line3:
        found.append(FieldError(field="address.line3", message="not supported by this provider"))
    country = (address.country if address else None) or ""
    if country and country.upper() not in ("US", "CA", "MX"):
        found.append(FieldError(field="address.country", message="one of US, CA, MX"))
    if request.phone and len("".join(ch for ch in request.phone if ch.isdigit())) < 10:
        found.append(FieldError(field="phone", message="a 10-digit phone number"))
    if pin is not None and len(pin) > 8:
        found.append(FieldError(field="X-Member-PIN", message="at most 8 characters"))
    return found
