"""Supply, demand and stock-record anomalies (issue 5).

:func:`detect_anomalies` runs every detector as of a date and returns one frame of records;
:func:`anomaly_reasons` turns them into the risk engine's reason codes per SKU-location.
"""

from stockwarden.anomaly.detect import detect_anomalies
from stockwarden.anomaly.drift import ShiftDetection, detect_shifts
from stockwarden.anomaly.reasons import REASON_BY_KIND, anomaly_reasons
from stockwarden.anomaly.records import RECORD_COLUMNS, anomaly_frame

__all__ = [
    "REASON_BY_KIND",
    "RECORD_COLUMNS",
    "ShiftDetection",
    "anomaly_frame",
    "anomaly_reasons",
    "detect_anomalies",
    "detect_shifts",
]
