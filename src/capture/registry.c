/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  Shared-memory table of the per-database workers (see registry.h).
 *
 *-------------------------------------------------------------------------
 */
#include "pipeopt.h"

#include <signal.h>

#include "capture/registry.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

typedef struct Registry
{
	LWLock	   *lock;
	int			nslots;
	WorkerSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} Registry;

/* a STARTING slot older than this belongs to a worker that never started */
#define STARTING_TIMEOUT_MS 60000

static Registry *registry = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
registry_size(void)
{
	return add_size(offsetof(Registry, slots),
					mul_size(sizeof(WorkerSlot), pipeopt_max_workers));
}

static void
registry_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(registry_size());
	RequestNamedLWLockTranche("pipeopt", 1);
}

static void
registry_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	registry = ShmemInitStruct("pipeopt registry", registry_size(), &found);
	if (!found)
	{
		memset(registry, 0, registry_size());
		registry->lock = &(GetNamedLWLockTranche("pipeopt"))->lock;
		registry->nslots = pipeopt_max_workers;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
pipeopt_registry_request(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = registry_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = registry_shmem_startup;
}

bool
pipeopt_registry_attached(void)
{
	return registry != NULL;
}

const char *
pipeopt_slot_state_name(WorkerSlotState state)
{
	switch (state)
	{
		case SLOT_FREE:
			return "stopped";
		case SLOT_STARTING:
			return "starting";
		case SLOT_RUNNING:
			return "running";
		case SLOT_NO_EXTENSION:
			return "no extension";
		case SLOT_SUSPENDED:
			return "suspended";
	}
	return "unknown";
}

/*
 * Caller holds the lock exclusively if create. When every slot is taken,
 * the oldest NO_EXTENSION slot (a memo, not a worker) is reused.
 */
static WorkerSlot *
find_slot(Oid dboid, bool create)
{
	WorkerSlot *free_slot = NULL;
	WorkerSlot *oldest_memo = NULL;

	for (int i = 0; i < registry->nslots; i++)
	{
		WorkerSlot *s = &registry->slots[i];

		if (s->dboid == dboid)
			return s;
		if (s->dboid == InvalidOid && free_slot == NULL)
			free_slot = s;
		if (s->state == SLOT_NO_EXTENSION &&
			(oldest_memo == NULL || s->state_since < oldest_memo->state_since))
			oldest_memo = s;
	}
	if (free_slot == NULL)
		free_slot = oldest_memo;
	if (create && free_slot)
	{
		memset(free_slot, 0, sizeof(*free_slot));
		free_slot->dboid = dboid;
		free_slot->state = SLOT_FREE;
	}
	return create ? free_slot : NULL;
}

static void
set_state(WorkerSlot *s, WorkerSlotState state)
{
	s->state = state;
	s->state_since = GetCurrentTimestamp();
	if (state != SLOT_RUNNING)
	{
		s->pid = 0;
		s->latch = NULL;
	}
}

bool
pipeopt_registry_claim(Oid dboid, bool from_launcher)
{
	static TimestampTz last_warning = 0;
	TimestampTz now = GetCurrentTimestamp();
	WorkerSlot *s;
	bool		claimed = false;
	bool		full = false;

	LWLockAcquire(registry->lock, LW_EXCLUSIVE);
	s = find_slot(dboid, true);
	if (s == NULL)
		full = true;
	else if (s->state == SLOT_FREE ||
			 (s->state == SLOT_NO_EXTENSION && !from_launcher) ||
			 (s->state == SLOT_SUSPENDED && now >= s->suspended_until) ||
			 /* a worker that was registered but never reported in */
			 (s->state == SLOT_STARTING &&
			  TimestampDifferenceExceeds(s->state_since, now, STARTING_TIMEOUT_MS)))
	{
		set_state(s, SLOT_STARTING);
		claimed = true;
	}
	LWLockRelease(registry->lock);

	/* at most one warning a minute per process: the launcher retries often */
	if (full && TimestampDifferenceExceeds(last_warning, now, 60000))
	{
		last_warning = now;
		ereport(WARNING,
				(errmsg("pipeopt cannot serve database %u: all %d worker slots are in use",
						dboid, registry->nslots),
				 errhint("Raise pipeopt.max_databases and restart the server.")));
	}
	return claimed;
}

void
pipeopt_registry_release(Oid dboid, WorkerSlotState state)
{
	WorkerSlot *s;

	LWLockAcquire(registry->lock, LW_EXCLUSIVE);
	s = find_slot(dboid, false);
	/*
	 * A suspension outlives the worker it stopped, and a slot that another
	 * worker runs in is not ours to release.
	 */
	if (s && s->state != SLOT_SUSPENDED && (s->pid == 0 || s->pid == MyProcPid))
		set_state(s, state);
	LWLockRelease(registry->lock);
}

/* False if another live worker already serves the database. */
bool
pipeopt_registry_set_running(Oid dboid, pid_t pid, Latch *latch)
{
	WorkerSlot *s;
	bool		ok = true;

	LWLockAcquire(registry->lock, LW_EXCLUSIVE);
	s = find_slot(dboid, true);
	if (s && s->state == SLOT_RUNNING && s->pid != pid && kill(s->pid, 0) == 0)
		ok = false;
	else if (s)
	{
		set_state(s, SLOT_RUNNING);
		s->pid = pid;
		s->latch = latch;
	}
	LWLockRelease(registry->lock);
	return ok;
}

void
pipeopt_registry_note_tick(Oid dboid, bool ok)
{
	WorkerSlot *s;

	LWLockAcquire(registry->lock, LW_EXCLUSIVE);
	s = find_slot(dboid, false);
	if (s)
	{
		s->ticks++;
		if (ok)
			s->last_capture = GetCurrentTimestamp();
		else
		{
			s->failures++;
			s->last_failure = GetCurrentTimestamp();
		}
	}
	LWLockRelease(registry->lock);
}

void
pipeopt_registry_suspend(Oid dboid, int suspend_ms)
{
	WorkerSlot *s;
	pid_t		pid = 0;

	LWLockAcquire(registry->lock, LW_EXCLUSIVE);
	s = find_slot(dboid, false);
	if (s)
	{
		pid = s->pid;
		s->state = SLOT_SUSPENDED;
		s->state_since = GetCurrentTimestamp();
		s->suspended_until = TimestampTzPlusMilliseconds(s->state_since,
														 suspend_ms);
	}
	LWLockRelease(registry->lock);

	if (pid == 0)
		return;

	/* SIGTERM, then wait (interruptibly) until the worker is gone */
	kill(pid, SIGTERM);
	for (int waited = 0; waited < 10000; waited += 10)
	{
		bool		gone;

		LWLockAcquire(registry->lock, LW_SHARED);
		gone = (s->pid != pid);
		LWLockRelease(registry->lock);
		if (gone || kill(pid, 0) != 0)
			break;
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L);
	}
}

/* Lift a suspension early: the launcher may start the worker again. */
void
pipeopt_registry_resume(Oid dboid)
{
	WorkerSlot *s;

	LWLockAcquire(registry->lock, LW_EXCLUSIVE);
	s = find_slot(dboid, false);
	if (s && s->state == SLOT_SUSPENDED)
		set_state(s, SLOT_FREE);
	LWLockRelease(registry->lock);
}

void
pipeopt_registry_wake(Oid dboid)
{
	WorkerSlot *s;

	LWLockAcquire(registry->lock, LW_SHARED);
	s = find_slot(dboid, false);
	if (s && s->latch)
		SetLatch(s->latch);
	LWLockRelease(registry->lock);
}

void
pipeopt_registry_forget_others(Oid *dboids, int n)
{
	LWLockAcquire(registry->lock, LW_EXCLUSIVE);
	for (int i = 0; i < registry->nslots; i++)
	{
		WorkerSlot *s = &registry->slots[i];
		bool		keep = false;

		if (s->dboid == InvalidOid || s->pid != 0 || s->state == SLOT_STARTING)
			continue;
		for (int j = 0; j < n && !keep; j++)
			keep = (dboids[j] == s->dboid);
		if (!keep)
			memset(s, 0, sizeof(*s));
	}
	LWLockRelease(registry->lock);
}

int
pipeopt_registry_snapshot(WorkerSlot *out, int max)
{
	int			n = 0;

	LWLockAcquire(registry->lock, LW_SHARED);
	for (int i = 0; i < registry->nslots && n < max; i++)
		if (registry->slots[i].dboid != InvalidOid)
			out[n++] = registry->slots[i];
	LWLockRelease(registry->lock);
	return n;
}
