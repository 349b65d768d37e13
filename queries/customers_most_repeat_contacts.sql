-- Which customers keep coming back within 48 hours of a close?
-- Output: customer_id, repeat_contacts, closed_conversations, intents (distinct entry intents).
SELECT customer_id,
       SUM(CASE WHEN repeat_48h THEN 1 ELSE 0 END) AS repeat_contacts,
       COUNT(*) AS closed_conversations,
       COUNT(DISTINCT COALESCE(intent, 'unknown')) AS intents
FROM facts
WHERE repeat_48h IS NOT NULL
GROUP BY customer_id
HAVING SUM(CASE WHEN repeat_48h THEN 1 ELSE 0 END) > 0
ORDER BY repeat_contacts DESC, customer_id
LIMIT 20
