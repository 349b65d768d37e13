-- Which entry intents trap customers with the bot (fallbacks and repeated intents)?
-- Output: intent, bot_handled, trapped, trap_rate, mean_signals.
SELECT COALESCE(intent, 'unknown') AS intent,
       COUNT(*) AS bot_handled,
       SUM(CASE WHEN trapped THEN 1 ELSE 0 END) AS trapped,
       AVG(CASE WHEN trapped THEN 1.0 ELSE 0.0 END) AS trap_rate,
       AVG(trap_signals) AS mean_signals
FROM facts
WHERE bot_handled
GROUP BY 1
ORDER BY trap_rate DESC, bot_handled DESC, intent
