import { describe, expect, it } from 'vitest';
import { ExportError } from '../../analysis/io/export-reader.ts';
import { ChatRefusedError } from '../../src/lib/server/assistant/chat.service.ts';
import { NotAllowedError } from '../../src/lib/server/auth/accounts.service.ts';
import { failFor, problemsOf, statusOf } from '../../src/lib/server/http-errors.ts';
import { ResumeRefusedError } from '../../src/lib/server/participants/entry.service.ts';
import {
	EnrolmentThrottledError,
	PanelIdRequiredError,
	StudyNotOpenError
} from '../../src/lib/server/participants/journey.service.ts';
import { RunningConfigError } from '../../src/lib/server/prereg/prereg.service.ts';
import { StudyStateError } from '../../src/lib/server/studies/studies.service.ts';
import { ValidationError } from '../../src/lib/server/validation/problems.ts';

describe('the map from domain errors to HTTP answers', () => {
	it.each([
		[new ValidationError([{ path: 'email', message: 'must be an email address' }]), 400],
		[new PanelIdRequiredError(), 400],
		[new ExportError([{ file: 'episodes.csv', row: 3, message: 'bad' }]), 400],
		[new NotAllowedError('only an admin'), 403],
		[new StudyStateError('no study "x"', 'not_found'), 404],
		[new StudyStateError('cannot launch', 'conflict'), 409],
		[new RunningConfigError('x', ['changed']), 409],
		[new StudyNotOpenError(), 409],
		[new ChatRefusedError('busy', 'still answering'), 409],
		[new ResumeRefusedError('too many'), 429],
		[new EnrolmentThrottledError(), 429]
	])('%s → %i', (error, status) => {
		expect(statusOf(error)).toBe(status);
	});

	it('keeps validation problems at their fields, and rethrows what is not a domain error', () => {
		const invalid = new ValidationError([
			{ path: 'role', message: 'must be one of owner, viewer' }
		]);
		expect(problemsOf(invalid)).toEqual([
			{ path: 'role', message: 'must be one of owner, viewer' }
		]);
		expect(failFor(invalid, { values: { role: 'x' } })).toMatchObject({
			status: 400,
			data: { values: { role: 'x' }, problems: [{ path: 'role' }] }
		});
		const bug = new TypeError('undefined is not a function');
		expect(statusOf(bug)).toBeUndefined();
		expect(() => failFor(bug)).toThrow(bug);
	});
});
