"""English interface, Swiss formats: 31.12.2027, 14:05, 34’000.

The users are in Switzerland whichever language they read: the SLA, the date inputs
(DD.MM.YYYY) and the audit trail all write dates the Swiss way, so an English page must
not show 12/31/2027 beside them. Only the decimal point is English.
"""

from sla_portal.formats.de_CH.formats import *  # noqa: F403

DECIMAL_SEPARATOR = "."
