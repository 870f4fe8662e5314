// The HTTP API's description, OpenAPI 3.1. Served at /api/v1/openapi.json; a test keeps it in step
// with the routes under src/routes/api/v1 (every path and method both ways) and checks the
// answers of a running server against the schemas here.

const error = {
	description: 'An error: `{ error: { status, message, problems? } }`',
	content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } }
};
const standardErrors = {
	'401': { ...error, description: 'No token, or one that is unknown, expired or revoked' },
	'403': { ...error, description: "The token's role (within its owner's) does not allow this" },
	'404': { ...error, description: "No such study, or one outside the token's scope" }
};
const slug = {
	name: 'slug',
	in: 'path',
	required: true,
	description: "The study's slug",
	schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }
};
const ok = (description: string, schema: object) => ({
	description,
	content: { 'application/json': { schema } }
});
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const flag = (name: string, description: string) => ({
	name,
	in: 'query',
	required: false,
	description,
	schema: { type: 'string', enum: ['0', '1'] }
});

export const OPENAPI = {
	openapi: '3.1.0',
	info: {
		title: 'Bedside API',
		version: '1',
		description:
			"What the CLI does for a study, for scripts and notebooks. Authenticate with a personal access token (Account → Access tokens): `Authorization: Bearer bsd_pat_…`. A token is scoped to studies and a role within its owner's; every answer is JSON (the export is a zip)."
	},
	servers: [{ url: '/' }],
	security: [{ bearer: [] }],
	paths: {
		'/api/v1/openapi.json': {
			get: {
				operationId: 'openapi',
				summary: 'This description',
				security: [],
				responses: { '200': ok('The OpenAPI 3.1 document', { type: 'object' }) }
			}
		},
		'/api/v1/studies': {
			get: {
				operationId: 'listStudies',
				summary: 'The studies the token reaches',
				responses: {
					'200': ok('Studies', {
						type: 'object',
						required: ['studies'],
						properties: { studies: { type: 'array', items: ref('StudyListItem') } }
					}),
					'401': standardErrors['401']
				}
			}
		},
		'/api/v1/studies/{slug}': {
			get: {
				operationId: 'studyStatus',
				summary: 'Status, protocol version and preregistrations',
				parameters: [slug],
				responses: { '200': ok('The study', ref('StudyStatus')), ...standardErrors }
			}
		},
		'/api/v1/studies/{slug}/monitoring': {
			get: {
				operationId: 'studyMonitoring',
				summary: 'Enrollment counts so far (CONSORT, per arm and stratum, follow-up answers)',
				parameters: [slug],
				responses: { '200': ok('Counts', ref('Monitoring')), ...standardErrors }
			}
		},
		'/api/v1/studies/{slug}/export.zip': {
			get: {
				operationId: 'studyExport',
				summary: 'The export (docs/export-format.md) as a zip; audited',
				parameters: [
					slug,
					flag('free_text', 'Include free text (default 1)'),
					flag('scrub', 'Scrub obvious identifiers from free text (default 0)'),
					flag('raw', 'Leave text cells as stored, without formula protection (default 0)')
				],
				responses: {
					'200': {
						description: 'The export',
						content: {
							'application/zip': { schema: { type: 'string', contentMediaType: 'application/zip' } }
						}
					},
					'400': { ...error, description: 'A bad option' },
					...standardErrors,
					'409': { ...error, description: 'The study is not running as registered' }
				}
			}
		},
		'/api/v1/studies/{slug}/analysis.json': {
			get: {
				operationId: 'studyAnalysis',
				summary: 'The analysis (docs/analysis-estimands.md) as JSON; audited',
				parameters: [slug],
				responses: {
					'200': ok('The analysis', ref('Analysis')),
					'400': { ...error, description: 'The study has no data to analyse yet' },
					...standardErrors,
					'409': { ...error, description: 'The study is not running as registered' }
				}
			}
		},
		'/api/v1/studies/{slug}/outcomes': {
			post: {
				operationId: 'importOutcomes',
				summary: 'Import outcomes from CSV (every row or none); audited',
				parameters: [slug],
				requestBody: {
					required: true,
					content: {
						'text/csv': {
							schema: { type: 'string' },
							example: 'participant_id,episode,measure,value\n0b5c…,1,hospital_30d,1\n'
						}
					}
				},
				responses: {
					'201': ok('Imported', ref('ImportResult')),
					'400': { ...error, description: 'What is wrong, by line and column; nothing imported' },
					...standardErrors,
					'409': { ...error, description: 'The study is not running as registered' },
					'413': { ...error, description: 'The file is too large' },
					'415': { ...error, description: 'Not a text/csv body' }
				}
			}
		},
		'/api/v1/studies/{slug}/benchmark-runs': {
			get: {
				operationId: 'benchmarkRuns',
				summary: 'The LLM-alone runs and whether each finished',
				parameters: [slug],
				responses: {
					'200': ok('Runs', {
						type: 'object',
						required: ['runs'],
						properties: { runs: { type: 'array', items: ref('BenchmarkRun') } }
					}),
					...standardErrors
				}
			}
		}
	},
	components: {
		securitySchemes: {
			bearer: { type: 'http', scheme: 'bearer', description: 'A personal access token, bsd_pat_…' }
		},
		schemas: {
			Error: {
				type: 'object',
				required: ['error'],
				properties: {
					error: {
						type: 'object',
						required: ['status', 'message'],
						properties: {
							status: { type: 'integer' },
							message: { type: 'string' },
							problems: {
								type: 'array',
								items: {
									type: 'object',
									required: ['path', 'message'],
									properties: { path: { type: 'string' }, message: { type: 'string' } }
								}
							}
						}
					}
				}
			},
			StudyListItem: {
				type: 'object',
				required: ['slug', 'title', 'status', 'token_role', 'your_role'],
				properties: {
					slug: { type: 'string' },
					title: { type: 'string' },
					status: {
						type: 'string',
						enum: ['draft', 'preregistered', 'recruiting', 'paused', 'closed']
					},
					token_role: { type: 'string', enum: ['owner', 'researcher', 'analyst', 'viewer'] },
					your_role: { type: 'string', enum: ['owner', 'researcher', 'analyst', 'viewer'] }
				}
			},
			StudyStatus: {
				type: 'object',
				required: ['slug', 'title', 'status', 'protocol', 'preregistrations', 'deviations'],
				properties: {
					slug: { type: 'string' },
					title: { type: 'string' },
					status: { type: 'string' },
					protocol: {
						type: ['object', 'null'],
						required: ['version', 'sha256', 'locked'],
						properties: {
							version: { type: 'integer' },
							sha256: { type: 'string' },
							locked: { type: 'boolean' }
						}
					},
					preregistrations: {
						type: 'array',
						items: {
							type: 'object',
							required: ['kind', 'protocol_version', 'registered_at', 'sha256', 'protocol_sha256'],
							properties: {
								kind: { type: 'string' },
								protocol_version: { type: 'integer' },
								registered_at: { type: 'string', format: 'date-time' },
								sha256: { type: 'string' },
								protocol_sha256: { type: 'string' }
							}
						}
					},
					deviations: { type: 'integer' }
				}
			},
			Monitoring: {
				type: 'object',
				required: [
					'slug',
					'status',
					'consort',
					'arms',
					'strata',
					'median_minutes_to_complete',
					'follow_ups_answered'
				],
				properties: {
					slug: { type: 'string' },
					status: { type: 'string' },
					consort: {
						type: ['object', 'null'],
						required: [
							'consented',
							'declined',
							'screened_out',
							'allocated',
							'in_progress',
							'completed',
							'withdrawn'
						],
						properties: Object.fromEntries(
							[
								'consented',
								'declined',
								'screened_out',
								'allocated',
								'in_progress',
								'completed',
								'withdrawn'
							].map((k) => [k, { type: 'integer' }])
						)
					},
					arms: {
						type: 'array',
						items: {
							type: 'object',
							required: ['arm', 'allocated', 'in_progress', 'completed', 'withdrawn'],
							properties: {
								arm: { type: 'string' },
								allocated: { type: 'integer' },
								in_progress: { type: 'integer' },
								completed: { type: 'integer' },
								withdrawn: { type: 'integer' }
							}
						}
					},
					strata: {
						type: 'array',
						items: {
							type: 'object',
							required: ['stratum', 'by_arm'],
							properties: { stratum: { type: 'string' }, by_arm: { type: 'object' } }
						}
					},
					median_minutes_to_complete: { type: ['number', 'null'] },
					follow_ups_answered: {
						type: 'array',
						items: {
							type: 'object',
							required: ['follow_up', 'answered'],
							properties: { follow_up: { type: 'string' }, answered: { type: 'integer' } }
						}
					}
				}
			},
			Analysis: {
				type: 'object',
				description: 'The analysis JSON of docs/analysis-estimands.md',
				required: ['format', 'study', 'consort', 'seed'],
				properties: {
					format: { type: 'string' },
					study: { type: 'object' },
					consort: { type: 'object' },
					seed: { type: 'integer' }
				}
			},
			ImportResult: {
				type: 'object',
				required: ['imported', 'measures', 'sha256'],
				properties: {
					imported: { type: 'integer' },
					measures: { type: 'object', additionalProperties: { type: 'integer' } },
					sha256: { type: 'string' }
				}
			},
			BenchmarkRun: {
				type: 'object',
				required: [
					'id',
					'arm',
					'mode',
					'repeats',
					'started_at',
					'finished_at',
					'state',
					'recommendations_stored'
				],
				properties: {
					id: { type: 'string' },
					arm: { type: 'string' },
					mode: { type: 'string', enum: ['physician', 'patient-first-turn', 'simulated'] },
					repeats: { type: 'integer' },
					started_at: { type: 'string', format: 'date-time' },
					finished_at: { type: ['string', 'null'], format: 'date-time' },
					state: { type: 'string', enum: ['finished', 'unfinished'] },
					recommendations_stored: { type: 'integer' }
				}
			}
		}
	}
} as const;
