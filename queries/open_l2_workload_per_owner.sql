-- How much open specialist (L2/L3) work does each owner hold at as_of?
-- Output: owner, lane, open_conversations, silent_over_20h, oldest_opened_at.
SELECT COALESCE(f.owner, '(queue)') AS owner, f.lane,
       COUNT(*) AS open_conversations,
       SUM(CASE WHEN f.hours_silent > 20 THEN 1 ELSE 0 END) AS silent_over_20h,
       MIN(f.opened_at) AS oldest_opened_at
FROM facts AS f
JOIN lanes AS l ON f.lane = l.lane
WHERE f.closed_at IS NULL AND l.tier IN ('L2', 'L3')
GROUP BY 1, 2
ORDER BY open_conversations DESC, owner, f.lane
