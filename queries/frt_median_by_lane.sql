-- Median first response time per lane and period, from the facts (the same numbers as the
-- frt_median_s metric).
-- Output: first_customer_period, lane, frt_median_s, n.
SELECT first_customer_period, lane, MEDIAN(frt_s) AS frt_median_s, COUNT(*) AS n
FROM facts
WHERE frt_s IS NOT NULL
GROUP BY first_customer_period, lane
ORDER BY first_customer_period, lane
