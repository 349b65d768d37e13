-- Whose conversations bounce back to a lane they had already left (A -> B -> A) most often?
-- Counted over rerouted conversations (two or more lane stays), by their latest owner.
-- Output: owner, rerouted, bounced, ping_pong_share.
SELECT owner,
       COUNT(*) AS rerouted,
       SUM(CASE WHEN bounces >= 1 THEN 1 ELSE 0 END) AS bounced,
       AVG(CASE WHEN bounces >= 1 THEN 1.0 ELSE 0.0 END) AS ping_pong_share
FROM facts
WHERE stays >= 2 AND owner IS NOT NULL
GROUP BY owner
HAVING SUM(CASE WHEN bounces >= 1 THEN 1 ELSE 0 END) > 0
ORDER BY bounced DESC, ping_pong_share DESC, owner
