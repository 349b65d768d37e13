-- Which lane made customers wait longest for a specialist in the latest week with handoffs?
-- Output: lane, tts_p90_s (90th percentile seconds to the first specialist assignment), n.
WITH latest AS (
  SELECT MAX(period_start) AS period_start FROM metrics WHERE metric = 'tts_p90_s'
)
SELECT m.lane, m.value AS tts_p90_s, m.n
FROM metrics AS m
JOIN latest AS l ON m.period_start = l.period_start
WHERE m.metric = 'tts_p90_s' AND m.lane <> 'ALL'
ORDER BY m.value DESC, m.lane
LIMIT 1
