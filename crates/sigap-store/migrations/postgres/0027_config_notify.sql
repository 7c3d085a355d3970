-- The configuration every create reads (the priority matrix, the assignment rules, the SLA
-- targets) is kept by each node (sigap-store/src/config_cache.rs). A change to it, by any
-- node, an older node, a command or by hand, notifies the channel `sigap_config`, which
-- every node listens to, and the nodes forget their copies when the change commits.
CREATE FUNCTION sigap_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sigap_config', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER priority_rule_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON priority_rule
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_config_changed();
CREATE TRIGGER assignment_rule_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON assignment_rule
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_config_changed();
CREATE TRIGGER sla_target_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sla_target
    FOR EACH STATEMENT EXECUTE FUNCTION sigap_config_changed();
