-- Signals unnested from custom_data (Invoca's nested Marketing Data), one row per signal of a
-- transaction's latest version.
{{ invoca_signals_from(source('invoca', 'transactions_current')) }}
