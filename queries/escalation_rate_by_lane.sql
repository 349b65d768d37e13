-- Bot-to-human escalation rate per lane and period, from the facts (the same numbers as the
-- escalation_rate metric).
-- Output: opened_period, lane, escalation_rate, n.
SELECT opened_period, lane,
       AVG(CASE WHEN escalated_at IS NULL THEN 0.0 ELSE 1.0 END) AS escalation_rate,
       COUNT(*) AS n
FROM facts
WHERE bot_handled
GROUP BY opened_period, lane
ORDER BY opened_period, lane
