-- How did every metric move per lane against the previous period?
-- Output: period_start, lane, metric, value, previous_value, change, n.
WITH paired AS (
  SELECT period_start, lane, metric, value, n,
         LAG(value) OVER (PARTITION BY lane, metric ORDER BY period_start) AS previous_value,
         LAG(period_start) OVER (PARTITION BY lane, metric ORDER BY period_start) AS previous_start
  FROM metrics
)
SELECT period_start, lane, metric, value, previous_value, value - previous_value AS change, n
FROM paired
WHERE previous_value IS NOT NULL
  AND period_start IN (SELECT MAX(period_start) FROM metrics)
ORDER BY lane, metric
