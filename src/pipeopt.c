/*-------------------------------------------------------------------------
 *
 * pipeopt.c
 *	  Module entry point: one init call per subsystem.
 *
 * Without shared_preload_libraries every SQL function still works in the
 * calling session; preloading adds the shared-memory registry, the launcher,
 * the per-database workers and the ring of parameter samples with its hooks.
 *
 *-------------------------------------------------------------------------
 */
#include "pipeopt.h"

#include "fmgr.h"
#include "miscadmin.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	pipeopt_define_gucs();

	if (!process_shared_preload_libraries_in_progress)
		return;

	pipeopt_registry_request();
	pipeopt_param_sample_init();
	pipeopt_install_hooks();
	pipeopt_register_launcher();
}
