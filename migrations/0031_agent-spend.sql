-- Budgets (issue 21): the spend agents report in evidence (`cost`), per agent, per day of the
-- policy's time zone and per currency, in millionths of the currency's unit so that a fraction of
-- a cent adds up exactly. A workspace's spend is the sum over its agents. CRM calls per agent are
-- counted in usage_counters (scope agent_crm_calls).
CREATE TABLE "agent_spend" (
	"workspace_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"day" text NOT NULL,
	"currency" text NOT NULL,
	"micros" bigint NOT NULL,
	CONSTRAINT "agent_spend_workspace_id_agent_id_day_currency_pk" PRIMARY KEY("workspace_id","agent_id","day","currency")
);
