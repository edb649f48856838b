import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

export class PostDodoApi implements ICredentialType {
	name = 'postDodoApi';

	displayName = 'PostDodo API';

	icon: Icon = { light: 'file:../nodes/PostDodo/postdodo.svg', dark: 'file:../nodes/PostDodo/postdodo.dark.svg' };

	documentationUrl = 'https://github.com/postdodo/postdodo-connect/blob/main/docs/n8n.md#connect';

	properties: INodeProperties[] = [
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'http://127.0.0.1:8080',
			placeholder: 'https://postdodo.example.com',
			description:
				'Where your PostDodo API answers (the address `postdodo serve` prints, or your deployment); a trailing /v1 is fine',
			required: true,
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			placeholder: 'pd_live_...',
			description: 'A workspace API key: pd_live_... for live accounts, pd_test_... for the sandbox',
			required: true,
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.apiKey}}',
			},
		},
	};

	// Listing accounts needs a valid key and proves the base URL really is a PostDodo API.
	test: ICredentialTestRequest = {
		request: {
			// The same normalisation as the nodes (shared/transport apiRoot): a pasted /v1 is not doubled.
			baseURL: '={{$credentials.baseUrl.trim().replace(/\\/+$/, "").replace(/\\/v1$/i, "").replace(/\\/+$/, "")}}',
			url: '/v1/accounts',
			method: 'GET',
		},
	};
}
