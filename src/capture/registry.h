/*-------------------------------------------------------------------------
 *
 * registry.h
 *	  Shared-memory table of the per-database workers.
 *
 * One slot per database that the launcher knows of. Locking: every read or
 * write of a slot holds the registry's LWLock; nothing slow happens while
 * it is held. A slot's states (see capture/README.md):
 *
 *	  FREE -> STARTING      launcher or CREATE EXTENSION asks for a worker
 *	                        (also a STARTING slot whose worker never came)
 *	  STARTING -> RUNNING   the worker connected and found the extension
 *	  STARTING/RUNNING -> NO_EXTENSION   the extension is not (or no longer)
 *	                        installed; the launcher leaves the database alone
 *	                        until CREATE EXTENSION starts a worker again
 *	  RUNNING -> FREE       the worker exited (error, SIGTERM); the launcher
 *	                        starts a new one at its next scan
 *	  NO_EXTENSION -> reused  when every slot is taken, the oldest memo
 *	  any -> SUSPENDED      DROP/ALTER/CREATE DATABASE needs the database
 *	                        free of connections: the worker is stopped and
 *	                        not restarted before suspended_until
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_REGISTRY_H
#define PIPEOPT_REGISTRY_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/latch.h"

typedef enum WorkerSlotState
{
	SLOT_FREE = 0,
	SLOT_STARTING,
	SLOT_RUNNING,
	SLOT_NO_EXTENSION,
	SLOT_SUSPENDED
} WorkerSlotState;

typedef struct WorkerSlot
{
	Oid			dboid;
	WorkerSlotState state;
	pid_t		pid;			/* 0 unless RUNNING */
	Latch	   *latch;			/* the worker's latch while RUNNING */
	TimestampTz state_since;
	TimestampTz suspended_until;
	TimestampTz last_capture;	/* end of the last successful tick */
	TimestampTz last_failure;	/* end of the last failed tick */
	int64		ticks;
	int64		failures;
} WorkerSlot;

extern const char *pipeopt_slot_state_name(WorkerSlotState state);

/* Claim a slot for dboid in STARTING state; false if a worker is there. */
extern bool pipeopt_registry_claim(Oid dboid, bool respect_no_extension);
extern void pipeopt_registry_release(Oid dboid, WorkerSlotState state);
extern bool pipeopt_registry_set_running(Oid dboid, pid_t pid, Latch *latch);
extern void pipeopt_registry_note_tick(Oid dboid, bool ok);
/* Stop a database's worker and keep it stopped for suspend_ms. */
extern void pipeopt_registry_suspend(Oid dboid, int suspend_ms);
extern void pipeopt_registry_resume(Oid dboid);
extern void pipeopt_registry_wake(Oid dboid);
/* Forget databases not in the given sorted array. */
extern void pipeopt_registry_forget_others(Oid *dboids, int n);
/* Copy all slots in use; returns their number. */
extern int	pipeopt_registry_snapshot(WorkerSlot *out, int max);

#endif							/* PIPEOPT_REGISTRY_H */
