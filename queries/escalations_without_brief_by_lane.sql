-- Which lanes receive specialist handoffs without a complete brief (intent, attempted steps,
-- current status), per period?
-- Output: specialist_period, lane, handoffs, incomplete, incomplete_share, mean_score.
SELECT specialist_period, lane,
       COUNT(*) AS handoffs,
       SUM(CASE WHEN context_complete THEN 0 ELSE 1 END) AS incomplete,
       AVG(CASE WHEN context_complete THEN 0.0 ELSE 1.0 END) AS incomplete_share,
       AVG(context_score) AS mean_score
FROM facts
WHERE specialist_at IS NOT NULL
GROUP BY specialist_period, lane
ORDER BY specialist_period DESC, incomplete DESC, lane
