-- Which conversations bounced back to a lane they had already left (A -> B -> A)?
-- Consecutive assignments in the same lane (queue, claim, reassign) count as one stay.
-- Output: conversation_id, first_lane, via_lane, bounces.
WITH ordered AS (
  SELECT conversation_id, lane, assigned_at, source_row,
         LAG(lane) OVER (PARTITION BY conversation_id ORDER BY assigned_at, source_row) AS previous_lane
  FROM assignments
),
stays AS (
  SELECT conversation_id, lane, assigned_at, source_row
  FROM ordered
  WHERE previous_lane IS NULL OR previous_lane <> lane
),
moves AS (
  SELECT conversation_id, lane,
         LAG(lane, 1) OVER (PARTITION BY conversation_id ORDER BY assigned_at, source_row) AS via_lane,
         LAG(lane, 2) OVER (PARTITION BY conversation_id ORDER BY assigned_at, source_row) AS first_lane
  FROM stays
)
SELECT conversation_id, first_lane, via_lane, COUNT(*) AS bounces
FROM moves
WHERE first_lane = lane
GROUP BY conversation_id, first_lane, via_lane
ORDER BY bounces DESC, conversation_id
