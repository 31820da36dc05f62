-- Trading bulletins standardised: types and areas mapped to closed code lists, credit codes checked, deal_key
-- from the bulletin key (the logic is the macro standardise_trading_bulletins, which the copy comparison applies
-- to its few rows too).
{{ standardise_trading_bulletins(source('trading', 'trading_bulletins')) }}
