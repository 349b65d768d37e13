-- Misroute rate per lane and period, straight from the facts (the same numbers as the
-- misroute_rate metric).
-- Output: opened_period, lane, misroute_rate, n.
SELECT opened_period, lane,
       AVG(CASE WHEN misrouted THEN 1.0 ELSE 0.0 END) AS misroute_rate,
       COUNT(*) AS n
FROM facts
WHERE reached_human
GROUP BY opened_period, lane
ORDER BY opened_period, lane
