/* The reference for tests/tests/policydb_access.rs: libsepol's
 * sepol_compute_av_reason on a policy, with booleans overridden.
 *   sepol_av POLICY [name=0|1 ...] < "scon tcon class requested" lines
 * prints "allowed auditallow auditdeny reason" in hex per line, or
 * "invalid" when a context does not map to a SID. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sepol/sepol.h>
#include <sepol/policydb.h>
#include <sepol/policydb/policydb.h>
#include <sepol/policydb/services.h>
#include <sepol/policydb/sidtab.h>
#include <sepol/booleans.h>
#include <sepol/boolean_record.h>

int main(int argc, char **argv)
{
	sepol_policy_file_t *pf;
	sepol_policydb_t *db;
	sepol_handle_t *h = sepol_handle_create();
	static sidtab_t st;
	char line[8192];
	FILE *fp;
	int i;

	if (argc < 2 || !(fp = fopen(argv[1], "r")))
		return 2;
	sepol_msg_set_callback(h, NULL, NULL);
	if (sepol_policy_file_create(&pf) || sepol_policydb_create(&db))
		return 2;
	sepol_policy_file_set_fp(pf, fp);
	sepol_policy_file_set_handle(pf, h);
	if (sepol_policydb_read(db, pf))
		return 3;
	for (i = 2; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		sepol_bool_key_t *key;
		sepol_bool_t *b;
		if (!eq)
			return 2;
		*eq = 0;
		if (sepol_bool_key_create(h, argv[i], &key) || sepol_bool_create(h, &b) ||
		    sepol_bool_set_name(h, b, argv[i]))
			return 4;
		sepol_bool_set_value(b, eq[1] == '1');
		if (sepol_bool_set(h, db, key, b))
			return 5;
	}
	if (sepol_sidtab_init(&st))
		return 6;
	sepol_set_sidtab(&st);
	sepol_set_policydb(&db->p);
	int n = 0;
	while (fgets(line, sizeof line, stdin)) {
		/* libsepol's sidtab searches contexts linearly: start a fresh one
		 * now and then, or 100,000 distinct contexts take quadratic time. */
		if (++n % 256 == 0) {
			sepol_sidtab_destroy(&st);
			if (sepol_sidtab_init(&st))
				return 6;
			sepol_set_sidtab(&st);
		}
		char scon[4096], tcon[4096];
		unsigned int cls, req, reason = 0;
		sepol_security_id_t ssid, tsid;
		struct sepol_av_decision avd;
		if (sscanf(line, "%4095s %4095s %u %x", scon, tcon, &cls, &req) != 4)
			return 7;
		if (sepol_context_to_sid(scon, strlen(scon) + 1, &ssid) ||
		    sepol_context_to_sid(tcon, strlen(tcon) + 1, &tsid)) {
			puts("invalid");
			continue;
		}
		if (sepol_compute_av_reason(ssid, tsid, cls, req, &avd, &reason)) {
			puts("error");
			continue;
		}
		printf("%x %x %x %x\n", avd.allowed, avd.auditallow, avd.auditdeny, reason);
	}
	return 0;
}
